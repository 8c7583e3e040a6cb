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
)

func TestExec(t *testing.T) {
	ctx := context.Background()
	t.Run("exit code and output are captured and teed", func(t *testing.T) {
		var live bytes.Buffer
		res, err := Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "echo out; echo err >&2; exit 3"}, Stdout: &live})
		if err != nil || res.ExitCode != 3 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || live.String() != "out\n" {
			t.Fatalf("res %+v err %v live %q", res, err, live.String())
		}
	})
	t.Run("Env overrides and Unset removes", func(t *testing.T) {
		t.Setenv("RUNNER_TEST_SECRET", "s3cret")
		t.Setenv("RUNNER_TEST_KEEP", "old")
		res, err := Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", `echo "[$RUNNER_TEST_SECRET][$RUNNER_TEST_KEEP]"`},
			Env: []string{"RUNNER_TEST_KEEP=new"}, Unset: []string{"RUNNER_TEST_SECRET"}})
		if err != nil || strings.TrimSpace(string(res.Stdout)) != "[][new]" {
			t.Fatalf("%q %v", res.Stdout, err)
		}
	})
	t.Run("a missing program is ErrNotFound", func(t *testing.T) {
		_, err := Exec{}.Run(ctx, Cmd{Name: "/nonexistent/valkey-dr-no-such-tool"})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("want ErrNotFound, got %v", err)
		}
	})
	t.Run("cancel stops the whole process group", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "child.pid")
		ctx, cancel := context.WithCancel(ctx)
		go func() {
			// The grandchild's PID written (the redirection creates the file before echo
			// writes to it), or a generous bound for a loaded host.
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
					break
				}
			}
			cancel()
		}()
		// The grandchild (sleep) stands for node under cdk: it must die too.
		_, err := Exec{}.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", "sleep 30 & echo $! > " + pidFile + "; wait"}})
		if err == nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("want interrupted error, got %v", err)
		}
		b, _ := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid == 0 {
			t.Fatal("the shell never wrote its grandchild's PID")
		}
		deadline := time.Now().Add(10 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			t.Fatalf("grandchild %d survives the cancel", pid)
		}
	})
}

func TestCmdString(t *testing.T) {
	c := Cmd{Name: "bin/cdk", Args: []string{"deploy", "--context", "region=us-west-2", "it's", ""}, Env: []string{"VALKEY_PASSWORD=x"}}
	if got, want := c.String(), `bin/cdk deploy --context region=us-west-2 'it'\''s' ''`; got != want {
		t.Fatalf("String() = %s, want %s", got, want)
	}
}

func TestFakeRejectsUnexpectedCommands(t *testing.T) {
	f := &Fake{Script: []Step{{Match: "sts get-caller-identity", Result: Result{Stdout: []byte("{}")}}}}
	if _, err := f.Run(context.Background(), Cmd{Name: "aws", Args: []string{"sts", "get-caller-identity"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Run(context.Background(), Cmd{Name: "aws", Args: []string{"s3", "rm"}}); err == nil || !strings.Contains(err.Error(), "unexpected command: aws s3 rm") {
		t.Fatalf("want an unexpected-command error, got %v", err)
	}
	if got := f.Calls(); len(got) != 2 || got[0] != "aws sts get-caller-identity" {
		t.Fatalf("Calls() = %q", got)
	}
}
