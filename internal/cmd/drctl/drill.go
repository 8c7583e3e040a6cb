package main

import (
	"context"
	"flag"
	"io"

	"github.com/valkey-dr/valkey-dr/internal/dr/drill"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
)

// NewCmdDrill is `drctl drill`'s flag set (make drill), bound to o.
func NewCmdDrill(o *drill.Options, stderr io.Writer) *flag.FlagSet {
	fs := newFlags("drill", stderr)
	fs.StringVar(&o.Repo, "repo", ".", "repository `dir` (holds cdk.json, bin/cdk, ./validate)")
	fs.StringVar(&o.Environment, "env", drill.DefaultEnvironment, "cdk.json `environment` to synthesize")
	fs.StringVar(&o.OutRoot, "out", "", "`dir` for the evidence bundle and work files (default <repo>/drill)")
	fs.StringVar(&o.FromCDKOut, "from-cdk-out", "", "reuse the cloud assembly of an earlier drill (`dir`: its work/.../cdk.out, holding the DR and the primary stack) instead of cdk synth")
	fs.StringVar(&o.Validator, "validator", "", "prebuilt validator `binary` (default: go build ./validate)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the stand-in running after the drill until Ctrl-C")
	fs.StringVar(&o.Mode, "mode", "", "DR `drMode` to drill: stateless or standby (default: the environment's drPosture)")
	fs.StringVar(&o.SigningKeyFile, "signing-key", evidence.DefaultLocalKeyPath(o.Repo), "local Ed25519 evidence key `file` (made once, 0600)")
	return fs
}

// drillRun is `drctl drill`: the runbook rehearsed locally (drill.Run).
func drillRun(ctx context.Context, o *drill.Options, stdout, stderr io.Writer) error {
	res, err := drill.Run(ctx, *o, drill.Deps{Stdout: stdout, Stderr: stderr})
	if res != nil {
		noteResult(ctx, res.Run, res.Evidence)
	}
	return err
}
