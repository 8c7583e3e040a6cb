package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/valkey-dr/valkey-dr/internal/dr"
)

// NewCmdTeardown is `drctl teardown`'s flag set (runbook section 8 step 4), bound to o.
func NewCmdTeardown(o *dr.TeardownOptions, stderr io.Writer) *flag.FlagSet {
	fs := newProcedureFlags("teardown", &o.Common, stderr)
	// Accepted as before, and unused: teardown runs no validator.
	validatorFlag(fs, new(string))
	fs.StringVar(&o.Confirm, "confirm", os.Getenv("CONFIRM"), "the DR stack `name`, typed out: nothing is deleted without it (or env CONFIRM)")
	fs.BoolVar(&o.DisableTerminationProtection, "disable-termination-protection", false, "turn the stack's termination protection off first (production stacks have it)")
	fs.BoolVar(&o.AllowWithoutPrimary, "allow-without-primary", false, "tear down even if the primary stack does not own the service name (failback not finished)")
	return fs
}

// teardownRun is `drctl teardown`: dr.Teardown.
func teardownRun(ctx context.Context, o *dr.TeardownOptions, stdout, stderr io.Writer) error {
	if err := runContext(&o.Common); err != nil {
		return err
	}
	return runProcedure(ctx, &o.Common, nil, noProblems, func(d dr.Deps) (*dr.Result, error) {
		return dr.Teardown(ctx, *o, d)
	}, stdout, stderr)
}
