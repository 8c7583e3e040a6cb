package drexec

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

// killHelperEnv makes TestRunnerKilledHelper (in a child test binary) run a command whose
// grandchild writes its PID to the file the variable names, then wait to be killed.
const killHelperEnv = "DREXEC_KILL_HELPER"

// TestRunnerKilledHelper is the runner TestKilledRunnerLeavesNoGrandchild SIGKILLs.
func TestRunnerKilledHelper(t *testing.T) {
	pidFile := os.Getenv(killHelperEnv)
	if pidFile == "" {
		t.Skip("run by TestKilledRunnerLeavesNoGrandchild")
	}
	interactive := os.Getenv(killHelperEnv+"_INTERACTIVE") != ""
	script := "sleep 300 & echo $! > " + pidFile + "; wait"
	if interactive {
		// The direct child is the one to die: sleep replaces the shell.
		script = "echo $$ > " + pidFile + "; exec sleep 300"
	}
	_, err := Exec{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", script}, Interactive: interactive})
	t.Fatalf("the helper was not killed: %v", err)
}

// TestKilledRunnerLeavesNoGrandchild SIGKILLs a process while the runner runs a command
// (cdk, which starts node, which starts the app and jsii): the command's grandchild, stand-in
// for jsii's node, must be gone within seconds. An interactive command (cdk deploy with a
// prompt) shares the terminal's group: it dies itself.
func TestKilledRunnerLeavesNoGrandchild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	for name, interactive := range map[string]bool{"grandchild of a command": false, "interactive command": true} {
		t.Run(name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
			cmd := exec.Command(os.Args[0], "-test.run=^TestRunnerKilledHelper$")
			cmd.Env = append(os.Environ(), killHelperEnv+"="+pidFile)
			if interactive {
				cmd.Env = append(cmd.Env, killHelperEnv+"_INTERACTIVE=1")
			}
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := 0
			for deadline := time.Now().Add(20 * time.Second); pid == 0; {
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
					t.Fatalf("no grandchild PID after 20 s:\n%s", out.String())
				}
				time.Sleep(20 * time.Millisecond)
				b, _ := os.ReadFile(pidFile)
				if strings.HasSuffix(string(b), "\n") {
					pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				}
			}
			if !(runowner.Owner{PID: pid}).Alive() {
				t.Fatalf("the grandchild %d is not running before the kill", pid)
			}
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // only if the test fails
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			deadline := time.Now().Add(5 * time.Second)
			for (runowner.Owner{PID: pid}).Alive() {
				if time.Now().After(deadline) {
					t.Fatalf("pid %d (sleep 300) outlives the SIGKILLed runner by 5 s", pid)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestWatchdogReleasedAfterANormalEnd: a command that ends normally leaves no watchdog behind
// and its exit status intact.
func TestWatchdogReleasedAfterANormalEnd(t *testing.T) {
	res, err := Exec{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "exit 7"}})
	if err != nil || res.ExitCode != 7 {
		t.Fatalf("exit 7: %+v, %v", res, err)
	}
	out, _ := exec.Command("ps", "-eo", "pid,ppid,args").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == strconv.Itoa(os.Getpid()) && strings.Contains(line, "drexec-watchdog") {
			t.Fatalf("a watchdog outlives its command: %s", line)
		}
	}
}
