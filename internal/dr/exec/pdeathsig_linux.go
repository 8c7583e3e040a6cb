package drexec

import "syscall"

// setDeathSignal makes the kernel SIGKILL the command when this process dies.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
