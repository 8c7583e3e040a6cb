package main

import (
	"context"
	"io"

	"github.com/valkey-dr/valkey-dr/internal/dr/drill"
)

// runStandIn is `drctl stand-in` (make stand-in): the drill's serverless-shaped local
// stand-in, kept until Ctrl-C, with the validator commands to try on it.
func runStandIn(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o drill.StandInOptions
	fs := newFlags("stand-in", stderr)
	fs.StringVar(&o.Repo, "repo", ".", "repository `dir` (holds cdk.json and bin/validate)")
	fs.StringVar(&o.Environment, "env", drill.DefaultEnvironment, "cdk.json `environment` whose ACL user and access string the stand-in carries (auth mode password)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.Stdout, o.Stderr = stdout, stderr
	return drill.StandIn(ctx, o)
}
