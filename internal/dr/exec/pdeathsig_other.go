//go:build unix && !linux

package drexec

import "syscall"

// setDeathSignal: no parent-death signal outside Linux; the watchdog still kills the group.
func setDeathSignal(a *syscall.SysProcAttr) {}
