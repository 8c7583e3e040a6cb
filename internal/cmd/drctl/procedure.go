package main

// This file is what activate, failback, route and teardown share around their procedure:
// the flags of dr.Common, who and why from a pipeline's variables, cdk.json read once, every
// argument problem in one message, and the procedure's Deps.

import (
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// newProcedureFlags is the flag set of a real-account procedure with the flags of dr.Common.
func newProcedureFlags(name string, c *dr.Common, stderr io.Writer) *flag.FlagSet {
	fs := newFlags(name, stderr)
	fs.StringVar(&c.Repo, "repo", ".", "repository `dir` (holds cdk.json, bin/cdk, ./validate)")
	fs.StringVar(&c.Environment, "env", "", "cdk.json `environment` (required, e.g. prod)")
	fs.StringVar(&c.Region, "region", "", "`region` (activate: required, the DR region; failback: default primaryRegion; teardown: default drRegion)")
	fs.StringVar(&c.EvidenceRoot, "evidence", "", "`dir` for evidence bundles (default <repo>/evidence)")
	fs.StringVar(&c.Who.Reason, "reason", "", "why: "+strings.Join(evidence.Reasons, ", ")+" (required in production; elsewhere default drill)")
	fs.StringVar(&c.Who.Ticket, "ticket", "", "change or incident ticket `id` (required in production)")
	fs.StringVar(&c.Who.Approver, "approver", "", "`name` of the person who approved the change (required in production)")
	fs.StringVar(&c.Who.IncidentStart, "incident-start", "", "when the incident began, RFC 3339 UTC (`time`, e.g. 2026-12-01T03:12:00Z): the timeline shows time since it beside the 4 h RTO")
	fs.StringVar(&c.SigningKeyFile, "signing-key", evidence.DefaultLocalKeyPath("."), "local Ed25519 evidence key `file` (non-production without evidence.signingKeyArn)")
	fs.BoolVar(&c.NoArchive, "no-archive", false, "do not upload the sealed bundle to the evidence bucket (drctl archive does it later)")
	return fs
}

// validatorFlag is --validator (activate, failback, teardown).
func validatorFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "validator", "", "prebuilt validator `binary` (default: go build ./validate)")
}

// deployFlags are the flags of the procedures that deploy (activate, failback).
func deployFlags(fs *flag.FlagSet, approval *string, allowReplacement, local *bool) {
	fs.StringVar(approval, "require-approval", drexec.ApprovalBroadening,
		"cdk deploy approval `policy`: "+strings.Join(drexec.Approvals, ", "))
	fs.BoolVar(allowReplacement, "allow-replacement", false, "deploy although the replacement check found an update CloudFormation cannot make "+
		"(a createOnly change of a named resource; docs/design.md \"Replacement-safe updates\"); recorded in the evidence")
	fs.BoolVar(local, "local", false, "run the validator on this machine (a bastion or VPN host in reach of the VPC) instead of through the canary")
}

// runContext completes c after its flags: who and what started the run (dr.RunContextFromEnv).
// A pipeline (dr.yml) passes who and why as DRCTL_* variables; a flag typed by the operator
// wins over them.
func runContext(c *dr.Common) error {
	var err error
	if c.Run, err = dr.RunContextFromEnv(nil); err != nil {
		return procedure.Usagef("%v. Nothing was run.", err)
	}
	for _, w := range []struct {
		field *string
		key   string
	}{{&c.Who.Reason, "reason"}, {&c.Who.Ticket, "ticket"}, {&c.Who.Approver, "approver"}} {
		if *w.field == "" {
			*w.field = c.Run[w.key]
		}
	}
	return nil
}

// runProcedure reads cdk.json once (c.CDKJSON: the procedure selects every Config from it),
// names every missing or wrong argument in one message (issue 26: REGION, REASON, TICKET and
// APPROVER at once, not one per try) before anything runs, then runs the procedure. verb adds
// the procedure's own problems; cfg is the environment's stateless Config, nil when cdk.json
// or the environment cannot give it (an environment cdk.json does not define is left to the
// procedure's context check, which lists every context problem). k is activate's kit.
func runProcedure(ctx context.Context, c *dr.Common, k *drkit.Kit, verb func(cfg *drcontext.Config) []string,
	run func(dr.Deps) (*dr.Result, error), stdout, stderr io.Writer) error {
	repo := c.Repo
	if repo == "" {
		repo = "."
	}
	if f, err := drcontext.OpenFile(filepath.Join(repo, drcontext.FileName)); err == nil {
		c.CDKJSON = f
	}
	var probs []string
	if strings.TrimSpace(c.Environment) == "" {
		probs = append(probs, "ENV is required (an environment of cdk.json, e.g. ENV=prod): a DR procedure never picks one for you")
	}
	var cfg *drcontext.Config
	err := errors.New("no environment")
	if strings.TrimSpace(c.Environment) != "" && c.CDKJSON != nil {
		cfg, err = c.CDKJSON.Select(drcontext.Request{Environment: c.Environment, DrMode: drcontext.DrModeStateless})
	}
	if err != nil {
		cfg = nil
	}
	probs = append(probs, verb(cfg)...)
	if cfg != nil {
		who := c.Who
		if !cfg.IsProduction() {
			who = evidence.Who{Reason: evidence.ReasonDrill, Ticket: evidence.ReasonDrill, Approver: evidence.ReasonDrill, IncidentStart: who.IncidentStart}
			if c.Who.Reason != "" {
				who.Reason = strings.TrimSpace(c.Who.Reason)
			}
		}
		probs = append(probs, evidence.ApprovalProblems(cfg.IsProduction(), cfg.EnvironmentName, strings.TrimSpace(who.Reason),
			strings.TrimSpace(who.Ticket), strings.TrimSpace(who.Approver), who.IncidentStart)...)
	}
	switch len(probs) {
	case 0:
	case 1:
		return procedure.Usagef("%s. Nothing was run.", probs[0])
	default:
		return procedure.Usagef("%d problems, nothing was run:\n  - %s", len(probs), strings.Join(probs, "\n  - "))
	}
	d := dr.Deps{Stdout: stdout, Stderr: stderr}
	// The model's time to shift, from this checkout's (or the kit's) templates.
	d.Predict = dr.ModelPrediction(*c, k, drexec.Exec{})
	res, err := run(d)
	if res != nil {
		noteResult(ctx, res.Run, res.Evidence)
	}
	return err
}

// approvalProblem is a --require-approval policy cdk deploy does not take.
func approvalProblem(approval string) []string {
	if err := drexec.CheckApproval(approval); err != nil {
		return []string{err.Error()}
	}
	return nil
}

// noProblems is the check of a verb with no argument of its own to check.
func noProblems(*drcontext.Config) []string { return nil }
