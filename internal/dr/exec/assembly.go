package drexec

// DeployAssembly deploys a stack from a pre-synthesized cloud assembly (a DR kit's): `cdk
// deploy --app <assembly dir>` makes the CLI read the assembly as it is, with no app to run,
// no synth and no Go toolchain. There is no --context (the assembly was synthesized with it)
// and no --output (nothing is synthesized). workDir is the command's directory: one with no
// cdk.json, so the CLI finds no `build` step to run either.
func (c CDK) DeployAssembly(assemblyDir, stack, outputsFile, approval, workDir string) Cmd {
	cmd := c.cmd("deploy", stack, "--app", assemblyDir, "--no-version-reporting",
		"--require-approval", approval, "--outputs-file", outputsFile, "--progress", "events")
	cmd.Dir = workDir
	// The same deadline and heartbeat as the synthesizing Deploy: activation and failback
	// deploy their checked assembly this way.
	cmd = cmd.bounded(TimeoutDeploy)
	cmd.Interactive = true
	cmd.ProgressEvery = ProgressDeploy
	return cmd
}

// Prereqs is the shared prerequisites check (scripts/prereqs under root) for the given
// components (go, node, valkey).
func Prereqs(root string, components ...string) Cmd {
	return Cmd{Name: root + "/scripts/prereqs", Args: components, Dir: root}
}
