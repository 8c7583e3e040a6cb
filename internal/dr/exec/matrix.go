package drexec

import "github.com/valkey-dr/valkey-dr/context"

// SynthMatrix synthesizes many stacks in one process and one `cdk synth`: selection is
// drcontext.MatrixAll (every environment x drMode: what `make check` runs) or an environment
// name (its DR, primary and switch stacks), each in its drMode's default region.
func (c CDK) SynthMatrix(selection, outDir string) Cmd {
	return c.cmd("synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", outDir,
		"--context", drcontext.KeyMatrix+"="+selection).bounded(TimeoutSynth)
}
