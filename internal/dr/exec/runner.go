// Package drexec runs the external commands of the DR procedures (cdk, aws, git, the
// validator) behind one small interface, so the procedures can be tested at that seam, with
// scripted results, on a machine that cannot reach AWS.
package drexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Cmd is one external command.
type Cmd struct {
	// Name is the program: a path, or a name looked up on PATH.
	Name string
	// Args are the arguments, without Name.
	Args []string
	// Dir is the working directory; "" means the current one.
	Dir string
	// Env are KEY=VALUE pairs that override the inherited environment.
	Env []string
	// Unset are variable names removed from the inherited environment (e.g. VALKEY_PASSWORD,
	// so that a stray password in the operator's shell cannot change what a command does).
	Unset []string
	// Interactive connects stdin and keeps the command in the terminal's process group, so
	// a prompt (cdk deploy --require-approval) can be answered and Ctrl-C reaches it. Other
	// commands run in their own process group and are stopped by the runner on cancel.
	Interactive bool
	// Stdout and Stderr, when set, receive the output live as well (it is always captured).
	Stdout, Stderr io.Writer
	// Timeout bounds the command (0: no bound of its own, only ctx's). When it passes, the
	// command's process group is stopped like on cancel and Run returns an error matching
	// ErrTimeout that names the command line. The builders in commands.go set one for every
	// command a procedure runs (timeouts.go).
	Timeout time.Duration
	// ProgressEvery, when set, writes a line to Progress (Stderr when nil) every interval the
	// command is still running: cdk deploy prints nothing while CloudFormation works.
	ProgressEvery time.Duration
	// Progress receives the progress lines; nil means Stderr (none when both are nil).
	Progress io.Writer
}

// String is the command line as an operator would type it (arguments quoted when needed);
// it never contains Env values, which may be secret.
func (c Cmd) String() string {
	parts := make([]string, 0, len(c.Args)+1)
	for _, a := range append([]string{c.Name}, c.Args...) {
		parts = append(parts, quote(a))
	}
	return strings.Join(parts, " ")
}

func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\"'\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Result is what a finished command produced.
type Result struct {
	// ExitCode is the exit status; -1 when the command was killed by a signal.
	ExitCode int
	// Stdout and Stderr are the captured output.
	Stdout, Stderr []byte
	// Duration is the wall time of the command.
	Duration time.Duration
}

// Runner runs commands. The error is non-nil only when the command could not be run at all
// (not found, not executable) or ctx ended; a non-zero exit is a Result with that ExitCode.
type Runner interface {
	Run(ctx context.Context, c Cmd) (Result, error)
}

// ErrNotFound is matched (errors.Is) when the program does not exist.
var ErrNotFound = errors.New("command not found")

// Exec is the Runner that runs real processes.
type Exec struct{}

var _ Runner = Exec{}

// stopGrace is how long a cancelled command may take to exit after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// Run starts c and waits for it. On ctx cancellation a non-interactive command's whole
// process group gets SIGTERM, then SIGKILL after stopGrace: cdk starts node, which starts the
// CDK app, which starts jsii's node; none of them may outlive an interrupted drill. Nor a
// killed one (issue 23, must-have 6): the command gets the parent-death signal, and a
// watchdog kills its process group when this process dies without releasing it (SIGKILL,
// a crash), so no CDK CLI or jsii runtime writes on into a dead run's directory.
func (Exec) Run(ctx context.Context, c Cmd) (Result, error) {
	cmd := exec.Command(c.Name, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = environ(os.Environ(), c.Env, c.Unset)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(&stdout, c.Stdout)
	}
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, c.Stderr)
	}
	if c.Interactive {
		cmd.Stdin = os.Stdin
	}
	setGroup(cmd, c.Interactive)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return Result{ExitCode: -1}, fmt.Errorf("%s: %w", c.Name, ErrNotFound)
		}
		return Result{ExitCode: -1}, fmt.Errorf("start %s: %w", c.Name, err)
	}
	if !c.Interactive {
		release := watchGroup(cmd)
		defer release()
	}
	runCtx, cancel := withTimeout(ctx, c.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopProgress := progress(c, start)
	defer stopProgress()
	var err error
	select {
	case err = <-done:
	case <-runCtx.Done():
		signalGroup(cmd, c.Interactive, false)
		select {
		case err = <-done:
		case <-time.After(stopGrace):
			signalGroup(cmd, c.Interactive, true)
			err = <-done
		}
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start), ExitCode: cmd.ProcessState.ExitCode()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%s: interrupted: %w", c.Name, ctx.Err())
	}
	if runCtx.Err() != nil {
		return res, timedOut(c)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return res, fmt.Errorf("%s: %w", c.Name, err)
	}
	return res, nil
}

// environ applies overrides and removals to base.
func environ(base, set, unset []string) []string {
	drop := map[string]bool{}
	for _, k := range unset {
		drop[k] = true
	}
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}
