package runowner

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// procStat returns the fields of /proc/<pid>/stat after the command name (field 3 onward), or
// nil when there is no such process.
func procStat(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	// pid (comm) state ...: comm may hold spaces and parentheses, so cut at the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// pidAlive reports whether pid is a live process (a zombie is dead: it only waits to be
// reaped).
func pidAlive(pid int) bool {
	f := procStat(pid)
	if f == nil {
		// No /proc entry: gone (or no /proc: ask the kernel).
		if _, err := os.Stat("/proc/self/stat"); err == nil {
			return false
		}
		return syscall.Kill(pid, 0) != syscall.ESRCH
	}
	return f[0] != "Z" && f[0] != "X"
}

// startTime is field 22 of /proc/<pid>/stat (starttime), "" when unknown.
func startTime(pid int) string {
	f := procStat(pid)
	// f[0] is field 3 (state): field 22 is f[19].
	if len(f) < 20 {
		return ""
	}
	return f[19]
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
