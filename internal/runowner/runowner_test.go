package runowner

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// deadPID returns the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func writeMark(t *testing.T, dir string, o Owner) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(o.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSelfIsAliveAndTheDeadAreNot(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("start times are read from /proc")
	}
	self := Self()
	if !self.Alive() || self.Start == "" || self.Boot == "" {
		t.Fatalf("Self() = %+v, alive %v: want a live owner with start time and boot id", self, self.Alive())
	}
	if (Owner{PID: deadPID(t)}).Alive() {
		t.Fatal("a reaped process counts as alive")
	}
	reused := self
	reused.Start = "1"
	if reused.Alive() {
		t.Fatal("a PID with another start time (reused) counts as alive")
	}
	rebooted := self
	rebooted.Boot = "00000000-0000-0000-0000-000000000000"
	if rebooted.Alive() {
		t.Fatal("an owner of another boot counts as alive")
	}
}

func TestSweepRemovesOnlyStaleDirectoriesOfOurs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("start times are read from /proc")
	}
	root := t.TempDir()
	outside := t.TempDir()
	dead := deadPID(t)
	self := Self()
	mk := func(name string) string {
		p := filepath.Join(root, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "secret"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const prefix = "ours-"
	deadMarked := mk(prefix + strconv.Itoa(dead) + "-a")
	writeMark(t, deadMarked, Owner{PID: dead, Start: "12345", Boot: self.Boot})
	reused := mk(prefix + "b")
	writeMark(t, reused, Owner{PID: os.Getpid(), Start: "1", Boot: self.Boot})
	deadUnmarked := mk(prefix + strconv.Itoa(dead) + "-c")
	live := mk(prefix + strconv.Itoa(os.Getpid()) + "-d")
	if err := Mark(live); err != nil {
		t.Fatal(err)
	}
	liveUnmarked := mk(prefix + "1-e") // PID 1 is alive: its name is no reason to sweep
	noMark := mk(prefix + "legacy")    // no mark, no PID: cannot be judged, kept
	garbled := mk(prefix + "garbled")
	if err := os.WriteFile(filepath.Join(garbled, FileName), []byte("nonsense"), 0o600); err != nil {
		t.Fatal(err)
	}
	notOurs := mk("theirs-" + strconv.Itoa(dead) + "-f")
	writeMark(t, notOurs, Owner{PID: dead})
	// A link named like ours to a directory marked dead: neither followed nor removed.
	writeMark(t, outside, Owner{PID: dead})
	link := filepath.Join(root, prefix+strconv.Itoa(dead)+"-link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, prefix+strconv.Itoa(dead)+"-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	removed, err := Sweep(root, Prefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 {
		t.Errorf("removed %q, want the dead, the reused and the dead unmarked one", removed)
	}
	for _, p := range []string{deadMarked, reused, deadUnmarked} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s survives the sweep: %v", p, err)
		}
	}
	for _, p := range []string{live, liveUnmarked, noMark, garbled, notOurs, link, file, filepath.Join(outside, FileName)} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was swept: %v", p, err)
		}
	}
	if err := Unmark(live); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(live, FileName)); !os.IsNotExist(err) {
		t.Fatalf("Unmark left the mark: %v", err)
	}
	if removed, err := Sweep(filepath.Join(root, "missing"), Prefix(prefix)); err != nil || removed != nil {
		t.Fatalf("a missing root: %q, %v", removed, err)
	}
}

// A scratch directory made with TempDir is marked with this process; the next TempDir of the
// same prefix removes what a killed run left (its mark names a dead process), never a live
// run's, nor another prefix's.
func TestTempDirSweepsWhatAKilledRunLeft(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("start times are read from /proc")
	}
	parent := t.TempDir()
	const prefix = "valkey-dr-test-scratch-"
	killed := filepath.Join(parent, prefix+"1-killed")
	live := filepath.Join(parent, prefix+"2-live")
	other := filepath.Join(parent, "valkey-dr-other-3-killed")
	for _, d := range []string{killed, live, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeMark(t, killed, Owner{PID: deadPID(t)})
	writeMark(t, live, Self())
	writeMark(t, other, Owner{PID: deadPID(t)})

	dir, err := TempDir(parent, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := Read(dir); err != nil || o != Self() {
		t.Errorf("the new directory's mark: %+v, %v; want this process", o, err)
	}
	if !strings.HasPrefix(filepath.Base(dir), prefix+strconv.Itoa(os.Getpid())+"-") {
		t.Errorf("%s: want the name to carry this PID", dir)
	}
	if _, err := os.Stat(killed); !os.IsNotExist(err) {
		t.Errorf("the killed run's %s survives: %v", killed, err)
	}
	for _, d := range []string{live, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
}
