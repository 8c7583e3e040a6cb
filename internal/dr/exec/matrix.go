package drexec

import "github.com/valkey-dr/valkey-dr/context"

// SynthMatrix synthesizes many stacks in one process and one `cdk synth`: selection is
// drcontext.MatrixAll (every environment x drMode: what `make check` runs) or an environment
// name (its DR, primary, switch and evidence stacks), each in its drMode's default region.
// Every validation runs (the gate, the kit).
func (c CDK) SynthMatrix(selection, outDir string) Cmd {
	return c.cmd("synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", outDir,
		"--context", drcontext.KeyMatrix+"="+selection).bounded(TimeoutSynth)
}

// SynthMatrixDRRegion is SynthMatrix of one environment with its DR stack in drRegion (a region
// the drMode does not default to: --context region=<drRegion>); every other stack as SynthMatrix.
func (c CDK) SynthMatrixDRRegion(environment, drRegion, outDir string) Cmd {
	return c.cmd("synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", outDir,
		"--context", drcontext.KeyMatrix+"="+environment, "--context", drcontext.KeyRegion+"="+drRegion).bounded(TimeoutSynth)
}

// SynthMatrixReadOnly is SynthMatrix without aws-cdk-lib's built-in CloudFormation validation
// (as Synth): for an assembly that is read, never deployed (the drill).
func (c CDK) SynthMatrixReadOnly(selection, outDir string) Cmd {
	return c.cmd("synth", "--quiet", "--no-notices", "--no-version-reporting", "--no-validation", "--output", outDir,
		"--context", drcontext.KeyMatrix+"="+selection).bounded(TimeoutSynth)
}
