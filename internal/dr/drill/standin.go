package drill

// The stand-in on its own (make stand-in, drctl stand-in; issue 26 must-have 6): the drill's
// serverless-shaped local cache, with the environment's ACL user and access string, kept
// running until Ctrl-C so the validator's run, watch and probe can be tried by hand. No synth
// and no evidence: it prints the validator commands with every flag they need, and on Ctrl-C
// stops the servers and removes its directory (password file, CA certificate, server files).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// StandInOptions are the inputs of StandIn.
type StandInOptions struct {
	// Repo is the repository root (cdk.json; the printed commands run its bin/validate).
	Repo string
	// Environment is the cdk.json environment whose user and access string the stand-in
	// carries (default example); its auth mode must be password.
	Environment string
	// Stdout receives the commands; Stderr the progress.
	Stdout, Stderr io.Writer
	// NewPassword makes the passwords (localvalkey.NewPassword(32) when nil).
	NewPassword func() (string, error)
	// Ready is called with the stand-in once the commands are printed (tests).
	Ready func(*StandInInfo)
}

// StandInInfo is a running stand-in: what the printed commands point at.
type StandInInfo struct {
	// Dir is the 0700 directory holding the password file, the CA and the servers' files;
	// removed when the stand-in stops.
	Dir string
	// PasswordFile holds the stack user's password (0600); CAFile the throwaway CA.
	PasswordFile, CAFile string
	// User is the stack's ACL user; Port the primary port; ReaderPort the replica's.
	User             string
	Port, ReaderPort int
	// PIDs are the valkey-server processes.
	PIDs []int
	// Commands are the printed validator command lines: run, watch, probe.
	Commands map[string]string
}

// StandInCommandPrefix starts every validator line StandIn prints (tests find them by it).
const StandInCommandPrefix = "  $ "

// StandIn starts the stand-in, prints the validator commands, waits until ctx ends (Ctrl-C),
// then stops it and removes its files. Its normal end (Ctrl-C) returns nil.
func StandIn(ctx context.Context, o StandInOptions) error {
	abs, err := procedure.AbsRepo(o.Repo)
	if err != nil {
		return err
	}
	if o.Environment == "" {
		o.Environment = DefaultEnvironment
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.NewPassword == nil {
		o.NewPassword = func() (string, error) { return localvalkey.NewPassword(32) }
	}
	cfg, err := drcontext.LoadFile(filepath.Join(abs, drcontext.FileName), drcontext.Request{Environment: o.Environment, DRPosture: true})
	if err != nil {
		return procedure.Usagef("%v\nNothing was started.", err)
	}
	if cfg.Env.Cache.Auth.Mode != contract.AuthPassword {
		return procedure.Usagef("environment %s: cache.auth.mode is %q: the local stand-in can only stand in for password auth (it cannot issue IAM tokens); use an environment with auth.mode password, e.g. %s. Nothing was started.",
			cfg.EnvironmentName, cfg.Env.Cache.Auth.Mode, DefaultEnvironment)
	}
	if _, _, err := localvalkey.Binaries(); err != nil {
		return procedure.Usagef("%v; install with: %s (or make prereqs). Nothing was started.", err, localvalkey.InstallHint)
	}
	// 0700, marked with this process: a later start sweeps it if this one is SIGKILLed.
	tmp, err := localvalkey.NewStandInDir("")
	if err != nil {
		return err
	}
	// Whatever happens from here (a failed start, Ctrl-C), the passwords go with the directory.
	defer os.RemoveAll(tmp)
	admin, err := o.NewPassword()
	if err != nil {
		return err
	}
	app, err := o.NewPassword()
	if err != nil {
		return err
	}
	pwFile := filepath.Join(tmp, "app.password")
	if err := os.WriteFile(pwFile, []byte(app+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "stand-in: starting a serverless-shaped TLS Valkey on 127.0.0.1 for environment %s (%s)...\n", cfg.EnvironmentName, Label)
	c, err := startFor(ctx, cfg, localvalkey.TopologyServerless, tmp, admin, app)
	if err != nil {
		if ctx.Err() != nil {
			return &procedure.Error{Code: contract.ExitInterrupted, Phase: "stand-in", Msg: "interrupted while starting; nothing is left running"}
		}
		return procedure.Failf("stand-in: %v", err)
	}
	info := &StandInInfo{Dir: tmp, PasswordFile: pwFile, CAFile: c.CA.CertFile, User: cfg.AuthUserName(),
		Port: c.Primary.Port, ReaderPort: c.ReaderPort(), PIDs: c.PIDs()}
	info.Commands = standInCommands(abs, info)
	printStandIn(o.Stdout, cfg, info)
	if o.Ready != nil {
		o.Ready(info)
	}
	<-ctx.Done()
	n := len(c.Nodes)
	cerr := c.Close()
	rerr := os.RemoveAll(tmp)
	if cerr != nil || rerr != nil {
		return procedure.Failf("stand-in: stopping: %v", errors.Join(cerr, rerr))
	}
	fmt.Fprintf(o.Stdout, "stand-in stopped: %d valkey-server processes ended; %s removed (password file, CA, server files)\n", n, tmp)
	return nil
}

// standInCommands are the validator's run, watch and probe against the stand-in, with every
// flag they need: the password from its file (never in argv), the throwaway CA.
func standInCommands(repo string, i *StandInInfo) map[string]string {
	target := strings.Join([]string{"--endpoint", shellQuote("localhost:" + strconv.Itoa(i.Port)),
		"--reader-port", strconv.Itoa(i.ReaderPort), "--user", shellQuote(i.User),
		"--password-file", shellQuote(i.PasswordFile), "--ca-file", shellQuote(i.CAFile)}, " ")
	bin := shellQuote(filepath.Join(repo, "bin", "validate"))
	return map[string]string{
		"run":   bin + " run " + target,
		"watch": bin + " watch " + target + " --duration 30s --rate 200 --sla-p99 10ms",
		"probe": bin + " probe " + target + " --duration 10s",
	}
}

func printStandIn(w io.Writer, cfg *drcontext.Config, i *StandInInfo) {
	fmt.Fprintf(w, "\nvalkey-dr stand-in — %s\n", strings.ToUpper(Label))
	fmt.Fprintf(w, "  environment %s's cache as a client sees ElastiCache Serverless: one TLS primary with every slot on localhost:%d,\n", cfg.EnvironmentName, i.Port)
	fmt.Fprintf(w, "  its replica as the read port %d; ACL user %s with the stack's access string (serverless commands only);\n", i.ReaderPort, i.User)
	pids := make([]string, len(i.PIDs))
	for k, p := range i.PIDs {
		pids[k] = strconv.Itoa(p)
	}
	fmt.Fprintf(w, "  valkey-server pids %s; password file (0600) %s; CA certificate %s\n", strings.Join(pids, " "), i.PasswordFile, i.CAFile)
	fmt.Fprintf(w, "\nPaste into another terminal (any directory):\n\n")
	for _, k := range []struct{ name, what string }{
		{"run", "runbook step 4, the checks (exit 0 pass, 1 a check failed, 2 usage)"},
		{"watch", "runbook section 7, the SLA under load (exit 0 held, 1 not)"},
		{"probe", "runbook section 5, activate or not (exit 0 healthy, 3 degraded, 4 unreachable, 5 inconclusive)"},
	} {
		fmt.Fprintf(w, "  # %s\n%s%s\n\n", k.what, StandInCommandPrefix, i.Commands[k.name])
	}
	fmt.Fprintf(w, "  # valkey-cli (the password from the file, not argv)\n  $ REDISCLI_AUTH=\"$(cat %s)\" valkey-cli -c -h localhost -p %d --tls --cacert %s --user %s\n\n",
		shellQuote(i.PasswordFile), i.Port, shellQuote(i.CAFile), shellQuote(i.User))
	fmt.Fprintf(w, "Try a failure: stop it (Ctrl-C) and probe again: probe exits 4 (UNREACHABLE).\n")
	fmt.Fprintf(w, "The stand-in keeps running until you press Ctrl-C: then the servers stop and %s is removed.\n", i.Dir)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
