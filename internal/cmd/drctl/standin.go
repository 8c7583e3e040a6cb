package main

import (
	"context"
	"flag"
	"io"

	"github.com/valkey-dr/valkey-dr/internal/dr/drill"
)

// NewCmdStandIn is `drctl stand-in`'s flag set (make stand-in), bound to o.
func NewCmdStandIn(o *drill.StandInOptions, stderr io.Writer) *flag.FlagSet {
	fs := newFlags("stand-in", stderr)
	fs.StringVar(&o.Repo, "repo", ".", "repository `dir` (holds cdk.json and bin/validate)")
	fs.StringVar(&o.Environment, "env", drill.DefaultEnvironment, "cdk.json `environment` whose ACL user and access string the stand-in carries (auth mode password)")
	return fs
}

// standInRun is `drctl stand-in`: the drill's serverless-shaped local stand-in, kept until
// Ctrl-C, with the validator commands to try on it.
func standInRun(ctx context.Context, o *drill.StandInOptions, stdout, stderr io.Writer) error {
	o.Stdout, o.Stderr = stdout, stderr
	return drill.StandIn(ctx, *o)
}
