//go:build !unix

package drexec

import "os/exec"

// setGroup has no process groups to set outside unix.
func setGroup(cmd *exec.Cmd, interactive bool) {}

// signalGroup kills the process (children may survive outside unix).
func signalGroup(cmd *exec.Cmd, interactive, kill bool) { _ = cmd.Process.Kill() }

// watchGroup has no group to watch outside unix.
func watchGroup(cmd *exec.Cmd) (release func()) { return func() {} }
