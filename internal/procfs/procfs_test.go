package procfs

import (
	"os"
	"runtime"
	"testing"
)

func TestParse(t *testing.T) {
	for name, tc := range map[string]struct {
		line   string
		ok     bool
		want   Stat
		zombie bool
	}{
		"a plain name": {line: "42 (valkey-server) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 4 0 9001 1 2",
			ok: true, want: Stat{PID: 42, Comm: "valkey-server", State: "S", PPID: 7, Session: 42, StartTime: "9001"}},
		"a name with spaces and a ')'": {line: "43 (a b) c) Z 1 43 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0 0",
			ok: true, want: Stat{PID: 43, Comm: "a b) c", State: "Z", PPID: 1, Session: 5, StartTime: "77"}, zombie: true},
		"fields cut short (no start time)": {line: "44 (x) R 2 44 44", ok: true, want: Stat{PID: 44, Comm: "x", State: "R", PPID: 2, Session: 44}},
		"no parentheses":                   {line: "45 x R 2 45 45"},
		"nothing after the name":           {line: "46 (x) R"},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := parse(tc.want.PID, tc.line)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parse(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
			}
			if got.Zombie() != tc.zombie {
				t.Errorf("Zombie() = %v", got.Zombie())
			}
		})
	}
}

func TestReadSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("no /proc on " + runtime.GOOS)
	}
	s, ok := Read(os.Getpid())
	if !ok || s.PPID != os.Getppid() || s.StartTime == "" || s.Zombie() {
		t.Fatalf("Read(self) = %+v, %v; want parent %d, a start time, alive", s, ok, os.Getppid())
	}
	if _, ok := Read(-1); ok {
		t.Error("Read(-1) found a process")
	}
	var mine bool
	for _, c := range Children(os.Getppid()) {
		mine = mine || c == os.Getpid()
	}
	if !mine {
		t.Errorf("Children(parent) lacks this process %d", os.Getpid())
	}
}
