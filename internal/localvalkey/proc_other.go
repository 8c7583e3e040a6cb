//go:build !linux

package localvalkey

import (
	"os/exec"
	"time"
)

// setProcAttr has no parent-death signal outside Linux; Close still kills.
func setProcAttr(cmd *exec.Cmd) {}

// waitStopped cannot observe the stopped state portably; give the signal a moment.
func waitStopped(pid int, timeout time.Duration) { time.Sleep(50 * time.Millisecond) }
