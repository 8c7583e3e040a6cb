package procedure

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

// killHelperEnv makes TestKilledRunHelper (in a child test binary) start a session with the
// roots the variable names ("<evidence root>\n<work root>"), then wait to be killed.
const killHelperEnv = "SESSION_KILL_HELPER"

// TestKilledRunHelper is the run TestNextRunSweepsAKilledRunsWork SIGKILLs mid-run.
func TestKilledRunHelper(t *testing.T) {
	roots := os.Getenv(killHelperEnv)
	if roots == "" {
		t.Skip("run by TestNextRunSweepsAKilledRunsWork")
	}
	evidence, work, _ := strings.Cut(roots, "\n")
	s, err := Start(Config{Kind: "drill", Name: "killed", Repo: t.TempDir(), EvidenceRoot: evidence, WorkRoot: work,
		Runner: &drexec.Fake{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	// What a synth leaves: a cloud assembly, written last so the parent knows we got here.
	if err := os.MkdirAll(filepath.Join(s.Work, "cdk.out"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Work, "cdk.out", "manifest.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {} // killed here
}

func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func markAs(t *testing.T, dir string, o runowner.Owner) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, runowner.FileName), []byte(o.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNextRunSweepsAKilledRunsWork SIGKILLs a run after its synth and proves the next run
// removes that run's working directory, and nothing else: not a live run's, not a finished
// run's (kept on purpose), never evidence.
func TestNextRunSweepsAKilledRunsWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("start times are read from /proc")
	}
	root := t.TempDir()
	evidence, work := root, filepath.Join(root, "work") // the drill's layout: <out>/work
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunHelper$")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+evidence+"\n"+work)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var killed []string
	for deadline := time.Now().Add(20 * time.Second); len(killed) == 0; {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("the helper did not get to its synth in 20 s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
		killed, _ = filepath.Glob(filepath.Join(work, WorkDirPrefix+"drill-killed-*", "cdk.out", "manifest.json"))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedWork := filepath.Dir(filepath.Dir(killed[0]))
	killedBundle := filepath.Join(evidence, filepath.Base(killedWork))
	if _, err := os.Stat(killedBundle); err != nil {
		t.Fatalf("the killed run's bundle directory: %v", err)
	}

	live := filepath.Join(work, WorkDirPrefix+"drill-live-20260101T000000Z")
	markAs(t, live, runowner.Self())
	finished := filepath.Join(work, WorkDirPrefix+"drill-finished-20260101T000000Z")
	if err := os.MkdirAll(finished, 0o750); err != nil {
		t.Fatal(err)
	}
	notOurs := filepath.Join(work, "cdk.out-of-someone")
	markAs(t, notOurs, runowner.Owner{PID: deadPID(t)})
	// A mark planted in an evidence bundle does not make the sweep look there.
	planted := filepath.Join(evidence, WorkDirPrefix+"drill-planted-20260101T000000Z")
	markAs(t, planted, runowner.Owner{PID: deadPID(t)})

	var stderr bytes.Buffer
	s, err := Start(Config{Kind: "drill", Name: "next", Repo: t.TempDir(), EvidenceRoot: evidence, WorkRoot: work,
		Runner: &drexec.Fake{Script: []drexec.Step{{Match: "", Result: drexec.Result{Stdout: []byte("v1\n")}}}},
		Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killedWork); !os.IsNotExist(err) {
		t.Fatalf("the killed run's working directory survives the next run's start: %v", err)
	}
	if !strings.Contains(stderr.String(), "removed the working directory of a killed run: "+killedWork) {
		t.Errorf("the sweep was silent: %q", stderr.String())
	}
	for _, p := range []string{live, finished, notOurs, planted, killedBundle} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("swept what is not a killed run's work: %v", err)
		}
	}
	if o, err := runowner.Read(s.Work); err != nil || o.PID != os.Getpid() {
		t.Fatalf("this run's working directory is not marked as ours: %+v, %v", o, err)
	}
	if _, err := s.Finish(context.Background(), nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := runowner.Read(s.Work); !os.IsNotExist(err) {
		t.Fatalf("a finished run's working directory keeps its mark (the next run would remove it): %v", err)
	}

	// A work root that is the evidence root is never swept.
	same := t.TempDir()
	stale := filepath.Join(same, WorkDirPrefix+"drill-stale-20260101T000000Z")
	markAs(t, stale, runowner.Owner{PID: deadPID(t)})
	if _, err := Start(Config{Kind: "drill", Name: "same", Repo: t.TempDir(), EvidenceRoot: same, WorkRoot: same,
		Runner: &drexec.Fake{}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("a work root that is the evidence root was swept: %v", err)
	}
}
