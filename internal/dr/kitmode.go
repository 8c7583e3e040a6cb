package dr

// Activation from a DR kit (internal/dr/kit): the assemblies are deployed as the compliance
// gate passed them (`cdk deploy --app <assembly dir>`), the validator is the kit's prebuilt
// binary, and the prerequisites check is the kit's scripts/prereqs. Nothing here runs go or
// cdk synth.

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// kitStack is the kit's assembly of cfg's region x drMode; a usage error (nothing run) when
// the kit has none.
func kitStack(k *drkit.Kit, cfg *drcontext.Config) (drkit.Stack, error) {
	st, err := k.Manifest.Find(cfg.Region, cfg.DrMode)
	if err != nil {
		return drkit.Stack{}, procedure.Usagef("%v. Nothing was run.", err)
	}
	if st.Stack != cfg.StackID() {
		return drkit.Stack{}, procedure.Usagef("the kit's %s assembly is stack %s, the kit's cdk.json names %s: the kit is inconsistent; rebuild it (make dr-kit ENV=%s). Nothing was run.",
			st.Assembly, st.Stack, cfg.StackID(), cfg.EnvironmentName)
	}
	return st, nil
}

// kitDeployCmd deploys stack (cfg's, or its DNS stack) from the kit's assembly of cfg's
// region x drMode, which holds both, run in the kit's directory.
func kitDeployCmd(j *job, cfg *drcontext.Config, stack, outputsFile string) (drexec.Cmd, error) {
	st, err := kitStack(j.kit, cfg)
	if err != nil {
		return drexec.Cmd{}, err
	}
	return drexec.CDK{Repo: j.kit.Dir}.DeployAssembly(j.kit.Path(st.Assembly), stack, outputsFile, j.approval, filepath.Dir(outputsFile)), nil
}

// kitReadStack is stack (cfg's, or its DNS stack) as the kit's assembly of cfg's region x
// drMode holds it.
func kitReadStack(k *drkit.Kit, cfg *drcontext.Config, stack string) (*assembly.Stack, error) {
	st, err := kitStack(k, cfg)
	if err != nil {
		return nil, err
	}
	return assembly.ReadStack(k.Path(st.Assembly), stack)
}

// kitPrereqs runs the kit's scripts/prereqs for Node 24 and the pinned CDK CLI, which the kit
// carries (node_modules: nothing is fetched; off linux-x64 the runner's own Node 24; an
// older kit without node_modules gets npm ci); no Go is asked for.
func kitPrereqs(ctx context.Context, s *procedure.Run, k *drkit.Kit) error {
	cmd := drexec.Prereqs(k.Dir, "node")
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	s.Printf("    %s", cmd)
	res, err := s.Runner().Run(ctx, cmd)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return procedure.Failf("the kit's prerequisites check (scripts/prereqs node) exited %d: install what it names (Node 24 off linux-x64; the kit carries the CDK CLI) and re-run", res.ExitCode)
	}
	return nil
}

// deployCmd is the deploy of cfg's stack: from the kit's assembly when there is a kit, from
// asm when the procedure synthesized it already (activation: oneSynth), else the synthesizing
// deploy of the repository.
func deployCmd(j *job, cfg *drcontext.Config, asm, outputsFile, outDir string) (drexec.Cmd, error) {
	switch {
	case j.kit != nil:
		return kitDeployCmd(j, cfg, cfg.StackID(), outputsFile)
	case asm != "":
		// From the work directory: no cdk.json there, so the CLI runs no build step.
		return drexec.CDK{Repo: j.Repo}.DeployAssembly(asm, cfg.StackID(), outputsFile, j.approval, filepath.Dir(outputsFile)), nil
	}
	return drexec.CDK{Repo: j.Repo}.Deploy(drexec.StackOf(cfg), outputsFile, outDir, j.approval), nil
}

// dnsDeployCmd is the deploy of cfg's DNS stack (a stack made on the night: Mode.OnTheNight),
// from the same assembly as the cache stack (kit, oneSynth) or synthesized with
// --context stack=dns.
func dnsDeployCmd(j *job, cfg *drcontext.Config, asm, outputsFile, outDir string) (drexec.Cmd, error) {
	switch {
	case j.kit != nil:
		return kitDeployCmd(j, cfg, cfg.DNSStackID(), outputsFile)
	case asm != "" && hasStack(asm, cfg.DNSStackID()):
		return drexec.CDK{Repo: j.Repo}.DeployAssembly(asm, cfg.DNSStackID(), outputsFile, j.approval, filepath.Dir(outputsFile)), nil
	}
	// The DR stack's own gated synth (the environment's failed) holds no DNS stack: this
	// deploy synthesizes it, gated, as `--context stack=dns`.
	t := drexec.StackOf(cfg)
	t.Stack, t.Select = cfg.DNSStackID(), drcontext.StackDNS
	return drexec.CDK{Repo: j.Repo}.Deploy(t, outputsFile, outDir, j.approval), nil
}

// dnsAssembly is the DNS stack as synthesized (deployedAssembly's twin).
func dnsAssembly(j *job, work, asm string, cfg *drcontext.Config) (*assembly.Stack, error) {
	switch {
	case j.kit != nil:
		return kitReadStack(j.kit, cfg, cfg.DNSStackID())
	case asm != "" && hasStack(asm, cfg.DNSStackID()):
		return assembly.ReadStack(asm, cfg.DNSStackID())
	}
	return assembly.ReadStack(filepath.Join(work, "cdk.out.dns"), cfg.DNSStackID())
}

// hasStack reports whether the cloud assembly in dir holds the stack.
func hasStack(dir, stack string) bool {
	_, err := assembly.ReadStack(dir, stack)
	return err == nil
}

// primaryAssembly is the primary stack as synthesized: the kit's assembly, asm (oneSynth), or
// a synth of its own.
func primaryAssembly(ctx context.Context, r drexec.Runner, j *job, cfg *drcontext.Config, asm, dir string) (*assembly.Stack, error) {
	switch {
	case j.kit != nil:
		st, err := j.kit.Manifest.Find(cfg.Region, cfg.DrMode)
		if err != nil {
			return nil, err
		}
		return assembly.ReadStack(j.kit.Path(st.Assembly), st.Stack)
	case asm != "":
		return assembly.ReadStack(asm, cfg.StackID())
	}
	return synthStack(ctx, r, j.Repo, cfg, dir)
}

// deployedAssembly is the assembly cdk deploy used: the kit's, asm, or the one it wrote to work.
func deployedAssembly(j *job, work, asm string, cfg *drcontext.Config) (*assembly.Stack, error) {
	switch {
	case j.kit != nil:
		return kitReadStack(j.kit, cfg, cfg.StackID())
	case asm != "":
		return assembly.ReadStack(asm, cfg.StackID())
	}
	return readDeployed(work, cfg)
}

// kitMeta is the evidence's record of the kit; nil without one.
func kitMeta(k *drkit.Kit) map[string]any {
	if k == nil {
		return nil
	}
	m := k.Manifest
	return map[string]any{"tarball": filepath.Base(k.Tarball), "sha256": k.TarballSHA256, "commit": m.Commit, "dirty": m.Dirty,
		"createdAt": m.CreatedAt, "built": m.Built, "verifiedFiles": len(m.Files), "dir": k.Dir}
}

// recheckKit re-hashes the deployed assembly after the deploy (what cdk read is still what
// the gate passed) and records the result.
func recheckKit(s *procedure.Run, j *job, cfg *drcontext.Config) error {
	if j.kit == nil {
		return nil
	}
	st, err := kitStack(j.kit, cfg)
	if err != nil {
		return err
	}
	n, err := j.kit.VerifyAssembly(st)
	var added *drkit.AddedFiles
	switch {
	case errors.As(err, &added):
		s.Printf("    kit: %s", err)
		if km, ok := s.Meta["kit"].(map[string]any); ok {
			km["filesAddedDuringDeploy"] = added.Files
		}
	case err != nil:
		return procedure.Failf("the kit's assembly changed during the deploy: %v (the deploy ran from it: compare the evidence's deploy.log with the gate's assembly)", err)
	}
	s.Printf("    kit: %s re-verified after the deploy (%d files match the manifest)", st.Assembly, n)
	if km, ok := s.Meta["kit"].(map[string]any); ok {
		km["deployedAssembly"] = st.Assembly
		km["deployedAssemblyFilesReverified"] = n
	}
	return nil
}
