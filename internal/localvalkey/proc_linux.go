package localvalkey

import (
	"os/exec"
	"syscall"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/procfs"
)

// setProcAttr makes the kernel kill the server if the process that started it dies without
// calling Close (a panic in another goroutine, SIGKILL by go test -timeout, kill -9 of a
// drill), so no server outlives its owner. Pdeathsig is tied to the OS thread that forked;
// the Go runtime only retires threads of goroutines that exit while locked to their thread,
// which this package never does.
//
// Setpgid puts the server in its own process group: a Ctrl-C in the terminal then reaches
// only the owner, which stops the servers itself (and can report that it did), instead of
// racing the servers' own SIGINT shutdown.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// waitStopped polls /proc until the process is in state T (stopped), so a
// test that pauses a server observes the pause immediately afterwards.
func waitStopped(pid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		st, ok := procfs.Read(pid)
		if !ok || st.State == "T" || st.State == "t" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
