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
	"github.com/valkey-dr/valkey-dr/contract"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
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
	if code == contract.ExitInterrupted {
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
			return contract.ExitUsage
		}
		return contract.ExitOK
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "drctl %s\n", buildinfo.Read(version))
		return contract.ExitOK
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

// commands are drctl's verbs, each in its file (<verb>.go: NewCmd<Verb> binds its flags to
// its options, <verb>Run does the work; cli/cli's pkg/cmd/<noun>/<verb> shape).
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"drill":    command(NewCmdDrill, drillRun),
	"kit":      command(NewCmdKit, kitRun),
	"activate": command(NewCmdActivate, activateRun),
	"failback": command(NewCmdFailback, failbackRun),
	"teardown": command(NewCmdTeardown, teardownRun),
	"route":    command(NewCmdRoute, routeRun),
	"verify":   commandWithPath(NewCmdVerify, verifyRun, "verify <bundle dir or .tar.gz>"),
	"archive":  commandWithPath(NewCmdArchive, archiveRun, "archive --env <environment> <bundle .tar.gz or dir>"),
	"stand-in": command(NewCmdStandIn, standInRun),
}

// command is a verb whose inputs are all flags: its flag set bound to a fresh options value,
// parsed, then its run.
func command[O any](newCmd func(*O, io.Writer) *flag.FlagSet, run func(context.Context, *O, io.Writer, io.Writer) error) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		o := new(O)
		if err := parse(newCmd(o, stderr), args); err != nil {
			return err
		}
		return run(ctx, o, stdout, stderr)
	}
}

// commandWithPath is command for a verb that takes one path besides its flags, before or
// after them (verify, archive).
func commandWithPath[O any](newCmd func(*O, io.Writer) *flag.FlagSet, run func(context.Context, *O, string, io.Writer, io.Writer) error, use string) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		o := new(O)
		path, err := parseOne(newCmd(o, stderr), args, use)
		if err != nil {
			return err
		}
		return run(ctx, o, path, stdout, stderr)
	}
}

// dispatch runs a subcommand, prints its error to stderr and returns its outcome.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	run, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "drctl: unknown command %s: want drill, activate, failback, route, teardown, verify, archive, kit, stand-in or version\n", termsafe.Quote(args[0]))
		return outcome{contract.ExitUsage, fmt.Errorf("unknown command %s", termsafe.Quote(args[0]))}
	}
	err := run(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return outcome{contract.ExitOK, nil}
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

// version is set at build time (-ldflags "-X main.version=<commit>"; the DR kit's binaries
// carry the kit's commit).
var version = "dev"

func fprintf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
