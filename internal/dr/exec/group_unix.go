//go:build unix

package drexec

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// setGroup starts the command in its own process group, so that signals aimed at it reach
// its children too, and a terminal's Ctrl-C reaches only our process (which then stops it).
// An interactive command stays in the terminal's group. Either way the kernel kills the
// command if this process dies (parent-death signal, Linux): a SIGKILLed drctl leaves no cdk
// CLI behind. Pdeathsig is tied to the OS thread that forked; the Go runtime retires a thread
// only when a goroutine locked to it exits, which this package never does.
func setGroup(cmd *exec.Cmd, interactive bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !interactive}
	setDeathSignal(cmd.SysProcAttr)
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

// watchdogScript kills the process group $1 unless this process says "done" first: its stdin
// is a pipe only this process holds, so its read ends at EOF when this process dies, however
// it dies (SIGKILL included). The parent-death signal reaches the command alone; the cdk CLI's
// node and the app's jsii node, its grandchildren, die here.
const watchdogScript = `read x; [ "$x" = done ] || kill -9 -"$1"`

// watchGroup starts the watchdog of a started non-interactive command's process group and
// returns the function that releases it when the command has ended. Without /bin/sh the
// command still runs, with the parent-death signal alone.
func watchGroup(cmd *exec.Cmd) (release func()) {
	r, w, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	wd := exec.Command("/bin/sh", "-c", watchdogScript, "drexec-watchdog", strconv.Itoa(cmd.Process.Pid))
	wd.Stdin = r
	// Its own group: a Ctrl-C in the terminal must not end it (nor make it kill anything).
	wd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := wd.Start(); err != nil {
		r.Close()
		w.Close()
		return func() {}
	}
	r.Close()
	exited := make(chan struct{})
	go func() { _ = wd.Wait(); close(exited) }()
	return func() {
		_, _ = w.WriteString("done\n")
		w.Close()
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			_ = wd.Process.Kill()
		}
	}
}
