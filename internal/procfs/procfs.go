// Package procfs reads the one Linux file the run-ownership checks and the process tests need:
// /proc/<pid>/stat. Elsewhere (no /proc) every lookup reports "no such process" and callers
// fall back to what their platform has.
package procfs

import (
	"os"
	"strconv"
	"strings"
)

// Stat is what we read of /proc/<pid>/stat (proc_pid_stat(5)).
type Stat struct {
	PID     int
	Comm    string // the command name, without its parentheses
	State   string // R, S, D, T, t, Z, X, ...
	PPID    int
	Session int
	// StartTime is field 22 (clock ticks since boot), kept as text: it is only compared.
	StartTime string
}

// Zombie reports whether the process has ended and only waits to be reaped.
func (s Stat) Zombie() bool { return s.State == "Z" || s.State == "X" }

// Read returns pid's stat; false when there is no such process (or no /proc).
func Read(pid int) (Stat, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, false
	}
	return parse(pid, string(data))
}

// All returns the stat of every process this one can see, in no particular order.
func All() []Stat {
	entries, _ := os.ReadDir("/proc")
	var out []Stat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, ok := Read(pid); ok {
			out = append(out, s)
		}
	}
	return out
}

// Children returns the PIDs of the live processes whose parent is pid.
func Children(pid int) []int {
	var out []int
	for _, s := range All() {
		if s.PPID == pid && !s.Zombie() {
			out = append(out, s.PID)
		}
	}
	return out
}

// parse reads "pid (comm) state ppid pgrp session ...". comm may hold spaces and parentheses,
// so it ends at the LAST ')'.
func parse(pid int, s string) (Stat, bool) {
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return Stat{}, false
	}
	f := strings.Fields(s[end+1:]) // f[0] is field 3 (state)
	if len(f) < 4 {
		return Stat{}, false
	}
	st := Stat{PID: pid, Comm: s[open+1 : end], State: f[0]}
	st.PPID, _ = strconv.Atoi(f[1])
	st.Session, _ = strconv.Atoi(f[3])
	if len(f) >= 20 {
		st.StartTime = f[19]
	}
	return st, true
}
