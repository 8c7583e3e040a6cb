//go:build unix && !linux

package runowner

import (
	"errors"
	"os"
	"syscall"
)

// pidAlive asks the kernel (kill -0): no start time outside Linux, so a reused PID keeps a
// stale directory until that process ends too.
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func startTime(pid int) string { return "" }

func bootID() string { return "" }

func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
