package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// deps is the outside world of `run`; tests replace parts of it (never the Valkey protocol).
type deps struct {
	getenv      func(string) string
	resolver    checks.Resolver
	secrets     target.SecretsFactory
	awsCreds    func(ctx context.Context, region string) (aws.CredentialsProvider, error)
	beforeCheck func(name string)
	now         func() time.Time
	// lambda and invokeTimeout are --via-function's (viafunction.go).
	lambda        func(ctx context.Context, region string) (InvokeAPI, error)
	invokeTimeout time.Duration
	// signals gives the command's context, canceled by SIGINT/SIGTERM (signalContext).
	signals func(stderr io.Writer) (context.Context, func())
}

func defaultDeps() deps {
	return deps{
		getenv:   os.Getenv,
		resolver: net.DefaultResolver,
		secrets:  target.AWSSecrets,
		awsCreds: target.AWSCredentials,
		now:      time.Now,
		lambda:   newLambda,
		signals:  signalContext,
	}
}

// verdictInterrupted is the verdict of a run, watch or probe a signal cut short (report.json
// verdict, watch.json/probe.json verdict): its own, never a check's failure class.
const verdictInterrupted = report.Status("interrupted")

const insecureWarning = "--insecure-plaintext: TLS is OFF: traffic and the password travel UNENCRYPTED (test servers only; never for ElastiCache)"

// run is the `run` subcommand: parse, resolve, run the checks, print, write evidence.
func run(args []string, stdout, stderr io.Writer, d deps) int {
	var o options
	fs := newFlagSet(&o)
	if code, done := parseArgs(fs, &o, args, runUsage, stdout, stderr); done {
		return code
	}
	ctx, stop := d.signalContext(stderr)
	defer stop()
	if o.viaFunction != "" {
		return runViaFunction(ctx, fs, o, d, stdout, stderr)
	}
	tg, code, ok := resolveTarget(ctx, o, d, stderr)
	if !ok {
		return code
	}

	now := d.now
	if now == nil {
		now = time.Now
	}
	env := &checks.Env{Target: tg, Version: toolVersion(), RunID: checks.NewRunID(), Resolver: d.resolver}
	rep := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: toolName, Version: toolVersion(), GoVersion: goVersion()},
		RunID:         env.RunID,
		KeyPrefix:     env.Prefix(),
		StartedAt:     now().UTC(),
		Target: report.Target{Endpoint: tg.Addr(), ReaderEndpoint: tg.ReaderAddr(), DNSNames: tg.DNSNames,
			OutputsFile: tg.Source.OutputsFile, Stack: tg.Source.Stack, Outputs: tg.Source.Outputs},
		Options: optionsEvidence(o, tg, env),
	}
	if tg.InsecurePlaintext {
		rep.Warnings = append(rep.Warnings, insecureWarning)
		fmt.Fprintf(stderr, "\n*** WARNING: %s ***\n\n", insecureWarning)
	}
	text := o.format == "text"
	if text && !o.quiet {
		fmt.Fprintf(stdout, "%s %s: validating %s (run %s, timeout %v)\n", toolName, toolVersion(), describeTarget(tg), env.RunID, tg.Timeout)
	}
	runner := &checks.Runner{
		Now:         now,
		BeforeCheck: d.beforeCheck,
		OnResult: func(r report.Result) {
			if text && !o.quiet {
				report.LiveLine(stdout, r)
			}
		},
	}
	rep.Checks = runner.Run(ctx, env)
	if env.Server.ClientMode != "" {
		s := env.Server
		rep.Server = &s
	}
	rep.Finish(now())
	if valkeyclient.Interrupted(ctx) {
		// Its own verdict: a run cut short proves nothing either way about the cache.
		rep.Verdict, rep.ExitCode = verdictInterrupted, contract.ExitInterrupted
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s after %v: the checks it cut short or never started say nothing about the cache; re-run",
			context.Cause(ctx), rep.FinishedAt.Sub(rep.StartedAt).Round(time.Millisecond)))
	}

	code = rep.ExitCode
	if o.evidenceDir != "" {
		paths, err := report.WriteEvidence(o.evidenceDir, rep)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
			code = contract.ExitUsage
		} else if text && !o.quiet {
			fmt.Fprintf(stdout, "evidence written to %s (%s)\n", o.evidenceDir, evidenceNames(paths))
		}
	}
	if text {
		report.WriteSummary(stdout, rep)
	} else if err := report.WriteJSON(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "%s: write report: %v\n", toolName, err)
		return contract.ExitUsage
	}
	return code
}

// resolveTarget turns the parsed flags into a Target and proves the evidence dir writable,
// before anything touches the cache; a problem is one line on stderr and exit 2.
func resolveTarget(ctx context.Context, o options, d deps, stderr io.Writer) (*target.Target, int, bool) {
	tg, err := target.Resolve(ctx, o.cfg, target.Deps{Getenv: d.getenv, Secrets: d.secrets, AWSCredentials: d.awsCreds})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
		return nil, contract.ExitUsage, false
	}
	if o.evidenceDir != "" {
		if err := checkWritable(o.evidenceDir); err != nil {
			fmt.Fprintf(stderr, "%s: --evidence-dir %q: %v: want a writable directory\n", toolName, o.evidenceDir, err)
			return nil, contract.ExitUsage, false
		}
	}
	return tg, 0, true
}

func describeTarget(t *target.Target) string {
	s := t.Addr()
	if t.Source.Stack != "" {
		s += " (stack " + t.Source.Stack + ")"
	}
	return s
}

// checkWritable creates dir if needed and proves a file can be created in it, before any
// check runs (a full run that cannot write its evidence wastes the operator's time).
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(filepath.Clean(name))
}

// optionsEvidence records the options of `run`, secrets redacted.
func optionsEvidence(o options, t *target.Target, e *checks.Env) map[string]any {
	m := targetOptionsEvidence(o, t, e)
	m["timeout"] = t.Timeout.String()
	m["sessions"] = t.Sessions
	m[contract.OptionRanIn] = localRanIn()
	if t.ReaderPort != 0 {
		m["readerPort"] = t.ReaderPort
	}
	if len(t.DNSNames) > 0 {
		m["dnsNames"] = t.DNSNames
	}
	return m
}

// targetOptionsEvidence records the options every subcommand shares, secrets redacted (the
// password itself is never here, only where it came from).
func targetOptionsEvidence(o options, t *target.Target, e *checks.Env) map[string]any {
	m := map[string]any{
		"endpoint":          t.Addr(),
		"format":            o.format,
		"insecurePlaintext": t.InsecurePlaintext,
		"auth":              string(t.Auth.Mode),
		"client":            e.ClientOptionsEvidence(),
	}
	add := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	add("outputs", o.cfg.OutputsFile)
	add("stack", t.Source.Stack)
	add("user", t.Auth.User)
	add("passwordSource", t.Auth.PasswordSource)
	add("cacheName", t.Auth.CacheName)
	add("region", t.Auth.Region)
	add("caFile", t.CAFile)
	add("tlsServerName", t.ServerName())
	add("evidenceDir", o.evidenceDir)
	if t.Auth.Mode == contract.AuthPassword {
		m["password"] = "[REDACTED]"
	}
	return m
}

func evidenceNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return strings.Join(names, ", ")
}
