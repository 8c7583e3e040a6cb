package runowner

import (
	"os"
	"strings"
	"syscall"

	"github.com/valkey-dr/valkey-dr/internal/procfs"
)

// pidAlive reports whether pid is a live process (a zombie is dead: it only waits to be
// reaped).
func pidAlive(pid int) bool {
	st, ok := procfs.Read(pid)
	if !ok {
		// No /proc entry: gone (or no /proc: ask the kernel).
		if _, err := os.Stat("/proc/self/stat"); err == nil {
			return false
		}
		return syscall.Kill(pid, 0) != syscall.ESRCH
	}
	return !st.Zombie()
}

// startTime is field 22 of /proc/<pid>/stat (starttime), "" when unknown.
func startTime(pid int) string {
	st, _ := procfs.Read(pid)
	return st.StartTime
}

// bootID is this boot's id, "" when unknown.
func bootID() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// ownedByMe reports whether this user owns the file fi describes.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
