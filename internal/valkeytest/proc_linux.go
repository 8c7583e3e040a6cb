package valkeytest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// setProcAttr makes the kernel kill the server if the test binary dies
// without running its cleanups (panic in another goroutine, SIGKILL by go
// test -timeout), so no server outlives the tests.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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
