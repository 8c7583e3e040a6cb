package procedure

import (
	"github.com/valkey-dr/valkey-dr/contract"

	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

func TestExitCode(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want int
	}{
		"success":                    {nil, contract.ExitOK},
		"a failed phase":             {Failf("x"), contract.ExitFailed},
		"a refusal":                  {Usagef("confirm"), contract.ExitUsage},
		"an interruption":            {fmt.Errorf("cdk: %w", context.Canceled), contract.ExitInterrupted},
		"anything else is a failure": {errors.New("boom"), contract.ExitFailed},
		"wrapped codes survive":      {fmt.Errorf("teardown: %w", Usagef("confirm")), contract.ExitUsage},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode = %d, want %d", name, got, tc.want)
		}
	}
}

func TestPhaseStatusesAndFinish(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Start(Config{Kind: "test", Name: "x", Repo: t.TempDir(), EvidenceRoot: t.TempDir(), WorkRoot: t.TempDir(),
		Runner: &drexec.Fake{Script: []drexec.Step{{Match: "", Result: drexec.Result{Stdout: []byte("v1\n")}}}},
		Stdout: &out, Stderr: &out, Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Phase(ctx, "one", RunbookDeploy, func() (string, error) { return "fine", nil }); err != nil {
		t.Fatal(err)
	}
	err = s.Phase(ctx, "two", RunbookValidation, func() (string, error) { return "", Failf("broken\nsecond line") })
	if ExitCode(err) != contract.ExitFailed || !strings.HasPrefix(err.Error(), "two: broken") {
		t.Fatalf("failed phase: %v", err)
	}
	cancel()
	err = s.Phase(ctx, "three", Estimate{}, func() (string, error) { return "", ctx.Err() })
	if ExitCode(err) != contract.ExitInterrupted {
		t.Fatalf("interrupted phase: %v", err)
	}
	s.NotRun("an earlier phase failed", PlannedPhase{Name: "four"})
	sealed, ferr := s.Finish(ctx, err, "")
	if ferr != nil {
		t.Fatal(ferr)
	}
	text := s.Timeline.Text()
	for _, want := range []string{"one ", "ok", "two ", "failed", "broken", "three", "interrupted", "four", "not run"} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "second line") {
		t.Error("the timeline note holds more than the first line of the error")
	}
	if len(sealed.Files) != 5 || s.Meta["verdict"] != "interrupted" {
		t.Fatalf("files %v verdict %v", sealed.Files, s.Meta["verdict"])
	}
}

// Issue 26: runs started in the same second get distinct bundles, never "file exists".
func TestSameSecondRunsGetDistinctBundles(t *testing.T) {
	root := t.TempDir()
	now := func() time.Time { return time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC) }
	const runs = 8
	names := make(chan string, runs)
	errs := make(chan error, runs)
	for range runs {
		go func() {
			s, err := Start(Config{Kind: "drill", Name: "example", EvidenceRoot: filepath.Join(root, "ev"), WorkRoot: filepath.Join(root, "work"), Now: now})
			if err != nil {
				errs <- err
				return
			}
			names <- s.Bundle.Name + " " + s.Work
		}()
	}
	seen := map[string]bool{}
	for range runs {
		select {
		case err := <-errs:
			t.Fatalf("a same-second run failed: %v", err)
		case n := <-names:
			if seen[n] {
				t.Fatalf("two runs share %s", n)
			}
			seen[n] = true
		}
	}
	if !seen["valkey-dr-drill-example-20261201T030405Z "+filepath.Join(root, "work", "valkey-dr-drill-example-20261201T030405Z")] {
		t.Errorf("the first run's name is not the plain stamp: %v", seen)
	}
}
