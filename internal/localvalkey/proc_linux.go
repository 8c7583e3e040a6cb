package localvalkey

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
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
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// Format: pid (comm) state ...; comm may contain spaces, so cut at ')'.
		s := string(data)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && (s[i+2] == 'T' || s[i+2] == 't') {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
