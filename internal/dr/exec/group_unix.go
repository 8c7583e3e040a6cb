//go:build unix

package drexec

import (
	"os/exec"
	"syscall"
)

// setGroup starts the command in its own process group, so that signals aimed at it reach
// its children too, and a terminal's Ctrl-C reaches only our process (which then stops it).
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends SIGTERM (or SIGKILL) to the command's process group, or to the process
// alone for an interactive command (which shares our group).
func signalGroup(cmd *exec.Cmd, interactive, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if interactive {
		_ = cmd.Process.Signal(sig)
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
