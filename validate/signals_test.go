package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// interruptAt returns deps.signals for an in-process run that a "signal" interrupts when the
// named check (or, with "", the traffic) starts, as signalContext would.
func interruptAt() (func(io.Writer) (context.Context, func()), func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	fire := func() { cancel(fmt.Errorf("%w by SIGINT", valkeyclient.ErrInterrupted)) }
	return func(io.Writer) (context.Context, func()) { return ctx, func() { cancel(nil) } }, fire
}

// stuckResolver answers nothing until the lookup's context ends, then fails as Go's resolver
// does: a *net.DNSError, which Classify reads as "check the resolver".
type stuckResolver struct{}

func (stuckResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	<-ctx.Done()
	return nil, &net.DNSError{Err: "operation was canceled", Name: host}
}

func (stuckResolver) LookupCNAME(ctx context.Context, host string) (string, error) {
	<-ctx.Done()
	return "", &net.DNSError{Err: "operation was canceled", Name: host}
}

// TestInterruptedRunIsItsOwnVerdict: Ctrl-C during the dns check was sealed as a DNS failure
// with "check the resolver" (issue 23). Now the report's verdict is "interrupted", exit 130,
// the check cut short says so, the rest did not run.
func TestInterruptedRunIsItsOwnVerdict(t *testing.T) {
	t.Parallel() // no server: the resolver is stuck
	signals, fire := interruptAt()
	d := defaultDeps()
	d.getenv = func(string) string { return "" }
	d.resolver = stuckResolver{}
	d.signals = signals
	d.beforeCheck = func(name string) {
		if name == "dns" {
			go func() { time.Sleep(200 * time.Millisecond); fire() }()
		}
	}
	dir := filepath.Join(t.TempDir(), "evidence")
	var out, errb bytes.Buffer
	start := time.Now()
	code := run([]string{"--endpoint", "cache.example.invalid:6379", "--evidence-dir", dir}, &out, &errb, d)
	took := time.Since(start)
	t.Logf("exit %d in %v\n%s%s", code, took, out.String(), errb.String())
	if code != contract.ExitInterrupted || took > 3*time.Second {
		t.Fatalf("exit %d in %v, want %d at once", code, took, contract.ExitInterrupted)
	}
	rep := readReport(t, dir)
	if rep.Verdict != verdictInterrupted || rep.ExitCode != contract.ExitInterrupted {
		t.Errorf("report verdict %s exit %d, want interrupted 130", rep.Verdict, rep.ExitCode)
	}
	for _, c := range rep.Checks {
		switch {
		case c.Name == "dns":
			if c.ErrorClass != valkeyclient.ClassInterrupted || !strings.Contains(c.Detail, "interrupted by SIGINT") || c.Fix != "" {
				t.Errorf("dns: %s/%s %q fix %q, want interrupted by SIGINT and no fix", c.Status, c.ErrorClass, c.Detail, c.Fix)
			}
		case c.Name == "cleanup":
		case c.Status != report.Skip:
			t.Errorf("%s ran after the interrupt: %s %q", c.Name, c.Status, c.Detail)
		}
	}
	for _, bad := range []string{"check the resolver", "FAIL:"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("output says %q", bad)
		}
	}
	if !strings.Contains(out.String(), "INTERRUPTED: ") {
		t.Errorf("no INTERRUPTED summary")
	}
}

func readReport(t *testing.T, dir string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, contract.ReportFile))
	if err != nil {
		t.Fatalf("no report.json: %v", err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestInterruptedWatchAndProbe: a signal mid-traffic ends watch at once with the verdict
// "interrupted" (exit 130) and probe with "interrupted" (exit 5, no verdict on the cache).
func TestInterruptedWatchAndProbe(t *testing.T) {
	t.Parallel() // own server and ports: these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{})
	for kind, want := range map[string]int{"watch": contract.ExitInterrupted, "probe": contract.ExitInconclusive} {
		t.Run(kind, func(t *testing.T) {
			signals, fire := interruptAt()
			d := defaultDeps()
			d.getenv = func(k string) string { return pw(valkeytest.AppPassword)[k] }
			d.signals = signals
			go func() { time.Sleep(1500 * time.Millisecond); fire() }()
			dir := filepath.Join(t.TempDir(), "evidence")
			args := []string{"--endpoint", s.Addr, "--insecure-plaintext", "--user", valkeytest.AppUser, "--duration", "30s", "--evidence-dir", dir}
			var out, errb bytes.Buffer
			start := time.Now()
			var code int
			if kind == "watch" {
				code = watchCmd(args, &out, &errb, d)
			} else {
				code = probeCmd(args, &out, &errb, d)
			}
			took := time.Since(start)
			t.Logf("exit %d in %v\n%s%s", code, took, out.String(), errb.String())
			if code != want || took > 1500*time.Millisecond+valkeyclient.CleanupAfterInterrupt+loadSlack {
				t.Fatalf("exit %d in %v, want %d promptly after the signal", code, took, want)
			}
			b, err := os.ReadFile(filepath.Join(dir, kind+".json"))
			if err != nil || !bytes.Contains(b, []byte(`"verdict": "interrupted"`)) {
				t.Errorf("%s.json does not record the verdict interrupted (%v)", kind, err)
			}
			if !strings.Contains(out.String(), "interrupted by SIGINT") {
				t.Errorf("the outcome does not name the signal")
			}
		})
	}
}

// TestSignalsEndTheBinary: the real binary, the real signals, against a node that stops
// answering (paused) just before the signal, so stopping has to wait for the clean-up. The first
// SIGINT ends a 30 s watch within the grace with exit 130; a SIGTERM sent right after it ends
// the process at once (the default disposition is back), whatever it was waiting for.
func TestSignalsEndTheBinary(t *testing.T) {
	t.Parallel() // own servers and ports: these tests mostly wait
	bin, err := repotest.Build("validate", "validate", "./validate", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, second := range map[string]bool{"one SIGINT": false, "SIGINT then SIGTERM": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := valkeytest.StartStandalone(t, valkeytest.Options{})
			cmd := exec.Command(bin, "watch", "--endpoint", s.Addr, "--insecure-plaintext", "--user", valkeytest.AppUser, "--duration", "30s", "--quiet")
			cmd.Env = append(os.Environ(), "VALKEY_PASSWORD="+valkeytest.AppPassword)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			time.Sleep(1500 * time.Millisecond)
			s.Pause()
			defer s.Resume()
			sent := time.Now()
			_ = cmd.Process.Signal(os.Interrupt)
			if second {
				time.Sleep(100 * time.Millisecond)
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
			select {
			case <-done:
			case <-time.After(interruptGrace + loadSlack):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("still running %v after the signal:\n%s", interruptGrace+loadSlack, out.String())
			}
			took := time.Since(sent)
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			t.Logf("ended %v after the signal: %v\n%s", took, cmd.ProcessState, out.String())
			if second {
				// Killed by the signal, well before the grace a first signal gets (the bound
				// leaves room for a loaded host).
				if !ws.Signaled() || ws.Signal() != syscall.SIGTERM || took > interruptGrace/2 {
					t.Errorf("ended %v after %v, want killed by the second signal at once", cmd.ProcessState, took)
				}
			} else if cmd.ProcessState.ExitCode() != contract.ExitInterrupted || !strings.Contains(out.String(), "SIGINT received") {
				t.Errorf("exit %v, want %d after saying SIGINT received", cmd.ProcessState, contract.ExitInterrupted)
			}
			if bytes.Contains(out.Bytes(), []byte("goroutine ")) || bytes.Contains(out.Bytes(), []byte("panic")) {
				t.Errorf("stack trace in output")
			}
		})
	}
}
