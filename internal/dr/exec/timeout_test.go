package drexec

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

// A command that hangs (a real shell whose child sleeps, standing for cdk -> node -> the app)
// is stopped at its deadline, its whole process group with it, and the error names it.
func TestTimeoutStopsAHungCommandAndItsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	var progress bytes.Buffer
	c := Cmd{Name: "sh", Args: []string{"-c", "sleep 60 & echo $! > " + pidFile + "; wait"},
		Timeout: 1500 * time.Millisecond, ProgressEvery: 400 * time.Millisecond, Progress: &progress}
	began := time.Now()
	res, err := Exec{}.Run(context.Background(), c)
	took := time.Since(began)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v (exit %d)", err, res.ExitCode)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("a deadline is not an interruption: %v", err)
	}
	for _, w := range []string{"did not finish in time", "1.5s", "sleep 60 & echo"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	// SIGTERM ends sh and sleep at once; stopGrace (SIGKILL) is the bound.
	if took > c.Timeout+stopGrace+5*time.Second {
		t.Errorf("Run returned after %s", took)
	}
	if !strings.Contains(progress.String(), "sh -c still running (") || !strings.Contains(progress.String(), "of at most 1.5s") {
		t.Errorf("no progress line: %q", progress.String())
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pid == 0 || alive(pid) {
		t.Fatalf("grandchild %d survives the deadline", pid)
	}
}

// alive: the process runs (a zombie waits for a parent that is not ours to reap: dead).
func alive(pid int) bool { return pid > 0 && (runowner.Owner{PID: pid}).Alive() }

func TestTimeoutDoesNotFireOnAQuickCommand(t *testing.T) {
	var progress bytes.Buffer
	res, err := Exec{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "exit 4"}, Timeout: time.Minute,
		ProgressEvery: time.Hour, Progress: &progress})
	if err != nil || res.ExitCode != 4 || progress.Len() != 0 {
		t.Fatalf("res %+v err %v progress %q", res, err, progress.String())
	}
}

// Every command line a procedure runs has a deadline; deploy and destroy say they are alive.
func TestEveryBuilderSetsATimeout(t *testing.T) {
	st := Stack{Environment: "prod", Region: "us-west-2", DrMode: "stateless", Stack: "S"}
	cdk := CDK{Repo: "/r"}
	for name, c := range map[string]Cmd{
		"synth app": cdk.SynthApp("prod", "none", "o"), "synth": cdk.Synth(st, "o"), "gated synth": cdk.SynthGated(st, "o"), "synth matrix": cdk.SynthMatrix("all", "o"), "synth matrix, DR region": cdk.SynthMatrixDRRegion("prod", "us-west-1", "o"), "read-only synth matrix": cdk.SynthMatrixReadOnly("example", "o"),
		"deploy": cdk.Deploy(st, "f", "o", ApprovalNever), "deploy assembly": cdk.DeployAssembly("a", "S", "f", ApprovalNever, "w"), "destroy": cdk.Destroy(st, "o"), "version": cdk.Version(),
		"build validator": BuildValidator("/r", "b"),
		"validate":        Validate{Binary: "v"}.Cmd(),
	} {
		if c.Timeout <= 0 {
			t.Errorf("%s (%s) has no timeout", name, c)
		}
	}
	for _, c := range []Cmd{cdk.Deploy(st, "f", "o", ApprovalNever), cdk.DeployAssembly("a", "S", "f", ApprovalNever, "w"), cdk.Destroy(st, "o")} {
		if c.Timeout < time.Hour || c.ProgressEvery <= 0 {
			t.Errorf("%s: timeout %s, progress every %s", c, c.Timeout, c.ProgressEvery)
		}
	}
}

// The built-in CloudFormation validation is skipped only by the synths nobody deploys.
func TestOnlyReadOnlySynthsSkipTheBuiltInValidation(t *testing.T) {
	st := Stack{Environment: "prod", Region: "us-west-2", DrMode: "stateless", Stack: "S"}
	cdk := CDK{Repo: "/r"}
	for _, c := range []Cmd{cdk.Synth(st, "o"), cdk.SynthMatrixReadOnly("example", "o")} {
		if !strings.Contains(c.String(), " --no-validation ") {
			t.Errorf("the inner loops' synth validates: %s", c)
		}
	}
	for _, c := range []Cmd{cdk.SynthApp("prod", "none", "o"), cdk.SynthMatrix("all", "o"), cdk.SynthMatrixDRRegion("prod", "us-west-1", "o"), cdk.Deploy(st, "f", "o", ApprovalNever), cdk.Destroy(st, "o")} {
		if strings.Contains(c.String(), "--no-validation") {
			t.Errorf("the gate or a deploy skips validation: %s", c)
		}
		for _, e := range c.Env {
			if strings.HasPrefix(e, "CDK_VALIDATION=") {
				t.Errorf("%s sets %s", c, e)
			}
		}
	}
}
