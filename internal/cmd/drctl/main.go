// Command drctl runs the DR runbook as commands: `drill` rehearses it locally with no AWS (a
// local stand-in for the cache, never a deployment); `activate`, `failback` and `teardown`
// run it against a real account. The Makefile targets drill, dr-activate, dr-failback and
// dr-teardown call it.
//
// Exit status: 0 done, 1 a phase failed, 2 bad input or a refusal (e.g. teardown without
// CONFIRM), 128+signal when interrupted by SIGINT/SIGTERM/SIGHUP (every process it started is
// stopped first).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
	"github.com/valkey-dr/valkey-dr/internal/dr"
	"github.com/valkey-dr/valkey-dr/internal/dr/drill"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

func main() {
	// A closed terminal or pipe must not kill us mid-cleanup: Go exits on SIGPIPE from a
	// write to stdout/stderr unless it is ignored (the writes then just fail).
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	// SIGHUP: the terminal went away (ssh dropped); stop and clean up as for Ctrl-C.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var got atomic.Value // os.Signal; written by the handler, read after Main returns
	go func() {
		sig := <-sigs
		got.Store(sig)
		// A second signal gets the default disposition (exit at once); the kernel still
		// kills the stand-in's servers then (parent-death signal).
		signal.Stop(sigs)
		fmt.Fprintf(os.Stderr, "\ndrctl: %v received: stopping every process this run started (send it again to exit at once)\n", sig)
		cancel()
	}()
	code := Main(ctx, os.Args[1:], lenient{os.Stdout}, lenient{os.Stderr})
	// An interrupted run exits 128+signal, as a shell reports it; a drill --keep that passed
	// and was then ended with Ctrl-C (its normal end) exits 0.
	if code == procedure.ExitInterrupted {
		if s, ok := got.Load().(syscall.Signal); ok {
			code = 128 + int(s)
		}
	}
	cancel()
	os.Exit(code)
}

// lenient is a terminal writer whose failures are ignored: a closed terminal or pipe must not
// stop a procedure (the runner tees command output to it, and a failed tee would stop copying
// a child's output, which then dies of SIGPIPE). Logs and evidence are written elsewhere.
type lenient struct{ w io.Writer }

func (l lenient) Write(p []byte) (int, error) {
	_, _ = l.w.Write(p)
	return len(p), nil
}

const usage = `Usage: drctl <command> [flags]   (see docs/runbook.md)

  drill      rehearse the runbook locally: synth the DR stack, start a local stand-in (NOT a
             deployment), validate it, seal evidence; no AWS account needed   (make drill)
  activate   runbook section 6: preflight, cdk deploy of the DR stack, validate, evidence
             (make dr-activate ENV=prod REGION=us-west-2)
  failback   runbook section 8 steps 1-3: deploy the primary with routing held, validate,
             release routing   (make dr-failback ENV=prod)
  route      runbook step 3, the forced-failover switch: publish FailoverRequested 1 (--to dr)
             or 0 (--to primary) in the DR region, read the switch and Route 53 back
             (make dr-route ENV=prod TO=dr)
  kit        build the DR kit of an environment: gate-checked assemblies, prebuilt drctl and
             validate, manifest with SHA256s, one tarball   (make dr-kit ENV=prod)
  teardown   runbook section 8 step 4: print what will be deleted, then destroy the DR stack
             only with CONFIRM=<stack name>   (make dr-teardown ENV=prod CONFIRM=...)
  verify     check a sealed evidence bundle (dir or .tar.gz) against its signed manifest:
             names every edited, added or removed file   (make dr-verify BUNDLE=evidence/<bundle>.tar.gz)
  stand-in   the drill's local stand-in alone (serverless shape, the environment's ACL user),
             kept until Ctrl-C: prints bin/validate run, watch and probe with every flag
             (make stand-in)
  archive    upload a sealed bundle + signature to the environment's write-once evidence
             bucket (activate/failback/teardown do it after sealing)   (drctl archive --env prod <tar.gz>)

In a production environment activate, failback, route and teardown require --reason
incident|test|failback, --ticket <id> and --approver <name> (REASON=, TICKET=, APPROVER=);
--incident-start <RFC 3339 UTC> (INCIDENT_START=) puts the time since the incident (RTO 4 h)
in the timeline.

activate, failback, route, teardown, drill and verify take --json: one JSON object on stdout
at the end (command, verdict, exitCode, bundle, phases with status and duration), everything
else on stderr. drctl --version prints the version, commit and toolchain.

Run "drctl <command> --help" for its flags (printed on stdout).
`

// Main dispatches a subcommand and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return procedure.ExitUsage
		}
		return procedure.ExitOK
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "drctl %s\n", buildinfo.Read(version))
		return procedure.ExitOK
	}
	// A subcommand's help (-h, --help) is asked for: it goes to stdout, exit 0.
	if wantsHelp(args[1:]) {
		stderr = stdout
	}
	// --json: one JSON object on stdout at the end; what a person reads goes to stderr.
	if jsonCommands[args[0]] && wantsJSON(args[1:]) {
		jr := &jsonRun{}
		out := dispatch(context.WithValue(ctx, jsonRunKey{}, jr), args, stderr, stderr)
		writeJSON(stdout, args[0], out.code, out.err, jr)
		return out.code
	}
	return dispatch(ctx, args, stdout, stderr).code
}

// outcome is a subcommand's exit status and error.
type outcome struct {
	code int
	err  error
}

// dispatch runs a subcommand, prints its error to stderr and returns its outcome.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var err error
	switch args[0] {
	case "drill":
		err = runDrill(ctx, args[1:], stdout, stderr)
	case "kit":
		err = runKit(ctx, args[1:], stdout, stderr)
	case "activate", "failback", "teardown", "route":
		err = runDR(ctx, args[0], args[1:], stdout, stderr)
	case "verify":
		err = runVerify(ctx, args[1:], stdout, stderr)
	case "archive":
		err = runArchive(ctx, args[1:], stdout, stderr)
	case "stand-in":
		err = runStandIn(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "drctl: unknown command %s: want drill, activate, failback, route, teardown, verify, archive, kit, stand-in or version\n", termsafe.Quote(args[0]))
		return outcome{procedure.ExitUsage, fmt.Errorf("unknown command %s", termsafe.Quote(args[0]))}
	}
	if errors.Is(err, flag.ErrHelp) {
		return outcome{procedure.ExitOK, nil}
	}
	if err != nil {
		// Messages quote bundle, kit, server and argument strings: escape them all here.
		fmt.Fprintf(stderr, "drctl %s: %s\n", args[0], termsafe.Lines(err.Error()))
	}
	return outcome{procedure.ExitCode(err), err}
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("drctl "+name, flag.ContinueOnError)
	// The flag package echoes an unknown flag's name raw: escape what it writes.
	fs.SetOutput(termsafe.Writer(stderr))
	if jsonCommands[name] {
		// Read by Main before the subcommand runs (wantsJSON); defined here so it parses.
		fs.Bool("json", false, "print one JSON object on stdout at the end (command, verdict, exitCode, bundle, phases with status and duration); everything else goes to stderr")
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return procedure.Usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return procedure.Usagef("unexpected argument %q: every input is a flag (see --help)", fs.Arg(0))
	}
	return nil
}

func runDrill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o drill.Options
	fs := newFlags("drill", stderr)
	fs.StringVar(&o.Repo, "repo", ".", "repository `dir` (holds cdk.json, bin/cdk, ./validate)")
	fs.StringVar(&o.Environment, "env", drill.DefaultEnvironment, "cdk.json `environment` to synthesize")
	fs.StringVar(&o.OutRoot, "out", "", "`dir` for the evidence bundle and work files (default <repo>/drill)")
	fs.StringVar(&o.FromCDKOut, "from-cdk-out", "", "reuse the cloud assembly of an earlier drill (`dir`: its work/.../cdk.out, holding the DR and the primary stack) instead of cdk synth")
	fs.StringVar(&o.Validator, "validator", "", "prebuilt validator `binary` (default: go build ./validate)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the stand-in running after the drill until Ctrl-C")
	fs.StringVar(&o.Mode, "mode", "", "DR `drMode` to drill: stateless or standby (default: the environment's drPosture)")
	fs.StringVar(&o.SigningKeyFile, "signing-key", evidence.DefaultLocalKeyPath(o.Repo), "local Ed25519 evidence key `file` (made once, 0600)")
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := drill.Run(ctx, o, drill.Deps{Stdout: stdout, Stderr: stderr})
	if res != nil {
		noteResult(ctx, res.Run, res.Evidence)
	}
	return err
}

func runDR(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	var o dr.Options
	fs := newFlags(name, stderr)
	fs.StringVar(&o.Repo, "repo", ".", "repository `dir` (holds cdk.json, bin/cdk, ./validate)")
	fs.StringVar(&o.Environment, "env", "", "cdk.json `environment` (required, e.g. prod)")
	fs.StringVar(&o.Region, "region", "", "`region` (activate: required, the DR region; failback: default primaryRegion; teardown: default drRegion)")
	fs.StringVar(&o.EvidenceRoot, "evidence", "", "`dir` for evidence bundles (default <repo>/evidence)")
	if name != "route" {
		fs.StringVar(&o.Validator, "validator", "", "prebuilt validator `binary` (default: go build ./validate)")
	}
	addRouteFlags(fs, name, &o)
	if name != "teardown" && name != "route" {
		fs.StringVar(&o.Approval, "require-approval", drexec.ApprovalBroadening,
			"cdk deploy approval `policy`: "+strings.Join(drexec.Approvals, ", "))
		fs.BoolVar(&o.AllowReplacement, "allow-replacement", false, "deploy although the replacement check found an update CloudFormation cannot make "+
			"(a createOnly change of a named resource; docs/design.md \"Replacement-safe updates\"); recorded in the evidence")
	}
	fs.StringVar(&o.Who.Reason, "reason", "", "why: "+strings.Join(evidence.Reasons, ", ")+" (required in production; elsewhere default drill)")
	fs.StringVar(&o.Who.Ticket, "ticket", "", "change or incident ticket `id` (required in production)")
	fs.StringVar(&o.Who.Approver, "approver", "", "`name` of the person who approved the change (required in production)")
	fs.StringVar(&o.Who.IncidentStart, "incident-start", "", "when the incident began, RFC 3339 UTC (`time`, e.g. 2026-12-01T03:12:00Z): the timeline shows time since it beside the 4 h RTO")
	fs.StringVar(&o.SigningKeyFile, "signing-key", evidence.DefaultLocalKeyPath("."), "local Ed25519 evidence key `file` (non-production without evidence.signingKeyArn)")
	fs.BoolVar(&o.NoArchive, "no-archive", false, "do not upload the sealed bundle to the evidence bucket (drctl archive does it later)")
	if name == "teardown" {
		fs.StringVar(&o.Confirm, "confirm", os.Getenv("CONFIRM"), "the DR stack `name`, typed out: nothing is deleted without it (or env CONFIRM)")
		fs.BoolVar(&o.DisableTerminationProtection, "disable-termination-protection", false, "turn the stack's termination protection off first (production stacks have it)")
		fs.BoolVar(&o.AllowWithoutPrimary, "allow-without-primary", false, "tear down even if the primary stack does not own the service name (failback not finished)")
	}
	var kitFile string
	var kitTrust multi
	var allowOldKit bool
	if name == "activate" {
		fs.StringVar(&kitFile, "kit", "", "DR kit `tarball` (make dr-kit): authenticate it, deploy its gate-checked assembly; no Go, no synth")
		fs.BoolVar(&allowOldKit, "allow-old-kit", false, fmt.Sprintf("with --kit: accept a kit built more than %d days ago (refused otherwise: it deploys the stack as it was then)", int(drkit.MaxAge.Hours()/24)))
		fs.Var(&kitTrust, "trusted-key", "with --kit: PEM `file` of public keys the kit's signature is checked against (repeatable; with "+
			evidence.DefaultTrustedKeysPath()+" and --signing-key's public half; docs/evidence.md \"Trust\")")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if o.Run, err = dr.RunContextFromEnv(nil); err != nil {
		return procedure.Usagef("%v. Nothing was run.", err)
	}
	// A pipeline (dr.yml) passes who and why as DRCTL_* variables; a flag typed by the
	// operator wins over them.
	for _, w := range []struct {
		field *string
		key   string
	}{{&o.Who.Reason, "reason"}, {&o.Who.Ticket, "ticket"}, {&o.Who.Approver, "approver"}} {
		if *w.field == "" {
			*w.field = o.Run[w.key]
		}
	}
	if kitFile != "" {
		// The kit's own cdk.json cannot say whom to trust: only keys this machine holds.
		keys, err := trustedKeys(kitTrust, o.SigningKeyFile, stderr)
		if err != nil {
			return err
		}
		if err := openKit(ctx, kitFile, keys, &o, o.Validator != "", allowOldKit, stdout); err != nil {
			return err
		}
	}
	if err := argProblems(name, o); err != nil {
		return err
	}
	d := dr.Deps{Stdout: stdout, Stderr: stderr}
	// The model's time to shift, from this checkout's (or the kit's) templates.
	d.Predict = dr.ModelPrediction(o, drexec.Exec{})
	var res *dr.Result
	switch name {
	case "activate":
		res, err = dr.Activate(ctx, o, d)
	case "failback":
		res, err = dr.Failback(ctx, o, d)
	case "teardown":
		res, err = dr.Teardown(ctx, o, d)
	case "route":
		res, err = dr.Route(ctx, o, d)
	}
	if res != nil {
		noteResult(ctx, res.Run, res.Evidence)
	}
	return err
}

// argProblems names every missing or wrong argument of a procedure in one message (issue 26:
// REGION, REASON, TICKET and APPROVER at once, not one per try), before anything runs. An
// environment cdk.json does not define is left to the procedure's context check, which lists
// every context problem.
func argProblems(name string, o dr.Options) error {
	var probs []string
	if strings.TrimSpace(o.Environment) == "" {
		probs = append(probs, "ENV is required (an environment of cdk.json, e.g. ENV=prod): a DR procedure never picks one for you")
	}
	if name == "activate" || name == "failback" {
		if err := drexec.CheckApproval(o.Approval); err != nil {
			probs = append(probs, err.Error())
		}
	}
	if name == "activate" && o.Route != "" && !slices.Contains(dr.RouteModeNames(), o.Route) {
		probs = append(probs, fmt.Sprintf("--route %q (ROUTE=): want %s", o.Route, strings.Join(dr.RouteModeNames(), " or ")))
	}
	if name == "route" {
		var names []string
		for _, t := range dr.RouteTargets {
			names = append(names, t.Name)
		}
		if !slices.Contains(names, o.To) {
			probs = append(probs, fmt.Sprintf("--to %q (TO=): want %s: dr requests failover to the DR region, primary clears the request", o.To, strings.Join(names, " or ")))
		}
	}
	repo := o.Repo
	if repo == "" {
		repo = "."
	}
	var cfg *drcontext.Config
	err := errors.New("no environment")
	if strings.TrimSpace(o.Environment) != "" {
		cfg, err = drcontext.LoadFile(filepath.Join(repo, drcontext.FileName), drcontext.Request{Environment: o.Environment, DrMode: drcontext.DrModeStateless})
	}
	if name == "activate" && strings.TrimSpace(o.Region) == "" {
		hint := ""
		if err == nil {
			hint = fmt.Sprintf(" (cdk.json's drRegion for %s is %s: REGION=%s)", cfg.EnvironmentName, cfg.Region, cfg.Region)
		}
		probs = append(probs, "--region (REGION=) is required for activation: name the DR region explicitly (runbook step 1: the DR region is designated)"+hint)
	}
	if err == nil {
		who := o.Who
		if !cfg.IsProduction() {
			who = evidence.Who{Reason: evidence.ReasonDrill, Ticket: evidence.ReasonDrill, Approver: evidence.ReasonDrill, IncidentStart: who.IncidentStart}
			if o.Who.Reason != "" {
				who.Reason = strings.TrimSpace(o.Who.Reason)
			}
		}
		probs = append(probs, evidence.ApprovalProblems(cfg.IsProduction(), cfg.EnvironmentName, strings.TrimSpace(who.Reason),
			strings.TrimSpace(who.Ticket), strings.TrimSpace(who.Approver), who.IncidentStart)...)
	}
	switch len(probs) {
	case 0:
		return nil
	case 1:
		return procedure.Usagef("%s. Nothing was run.", probs[0])
	}
	return procedure.Usagef("%d problems, nothing was run:\n  - %s", len(probs), strings.Join(probs, "\n  - "))
}
