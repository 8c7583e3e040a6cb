package main

import (
	"context"
	"flag"
	"io"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr"
)

// NewCmdFailback is `drctl failback`'s flag set (runbook section 8 steps 1-3), bound to o.
func NewCmdFailback(o *dr.FailbackOptions, stderr io.Writer) *flag.FlagSet {
	fs := newProcedureFlags("failback", &o.Common, stderr)
	validatorFlag(fs, &o.Validator)
	deployFlags(fs, &o.Approval, &o.AllowReplacement, &o.Local)
	recheckFlag(fs, &o.NoRecheck)
	return fs
}

// failbackRun is `drctl failback`: dr.Failback.
func failbackRun(ctx context.Context, o *dr.FailbackOptions, stdout, stderr io.Writer) error {
	if err := runContext(&o.Common); err != nil {
		return err
	}
	problems := func(*drcontext.Config) []string { return approvalProblem(o.Approval) }
	return runProcedure(ctx, &o.Common, nil, problems, func(d dr.Deps) (*dr.Result, error) {
		return dr.Failback(ctx, *o, d)
	}, stdout, stderr)
}
