// Package runowner marks a directory with the process that made it, so that a later run can
// tell the leftovers of a killed run (SIGKILL skips every clean-up) from the directories of a
// run still going, and remove the former (issue 23, must-have 6).
//
// The mark is a small file in the directory: the owner's PID, its start time (Linux: field 22
// of /proc/<pid>/stat, in clock ticks since boot) and the boot id. A directory is stale when
// that process is gone: no such PID, a zombie, or a PID reused by another process (another
// start time, another boot). Without a start time (outside Linux) only the PID is checked.
//
// Sweep removes only what is unmistakably ours: directories (never a link, never followed)
// under one root, named with a prefix only this project uses, owned by this user, whose
// mark names a dead owner. A directory without a mark is kept, unless its name carries the
// PID of a dead owner (the creator died between mkdir and writing the mark).
package runowner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileName is the mark's name inside the directory it marks.
const FileName = ".valkey-dr-owner"

// maxMarkBytes caps what Read accepts: a mark is three short lines.
const maxMarkBytes = 512

// Owner is a process as the mark records it.
type Owner struct {
	PID int
	// Start is the process's start time as the kernel counts it ("" unknown: only the PID is
	// compared).
	Start string
	// Boot is the kernel's boot id ("" unknown).
	Boot string
}

// Self is this process.
func Self() Owner {
	pid := os.Getpid()
	return Owner{PID: pid, Start: startTime(pid), Boot: bootID()}
}

// Alive reports whether the process o names still runs: the same PID, started at the same
// time, in the same boot.
func (o Owner) Alive() bool {
	if o.PID <= 0 {
		return false
	}
	if o.Boot != "" {
		if b := bootID(); b != "" && b != o.Boot {
			return false // rebooted: every process of that boot is gone
		}
	}
	if !pidAlive(o.PID) {
		return false
	}
	if o.Start != "" {
		if s := startTime(o.PID); s != "" && s != o.Start {
			return false // the PID was reused by another process
		}
	}
	return true
}

// String is the mark's content.
func (o Owner) String() string {
	return fmt.Sprintf("pid %d\nstart %s\nboot %s\n", o.PID, o.Start, o.Boot)
}

// Mark writes this process's mark into dir (0600, by rename, so a reader never sees half of
// it).
func Mark(dir string) error {
	tmp, err := os.CreateTemp(dir, FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("mark %s as this run's: %w", dir, err)
	}
	_, werr := tmp.WriteString(Self().String())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("mark %s as this run's: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, FileName)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("mark %s as this run's: %w", dir, err)
	}
	return nil
}

// Unmark removes dir's mark: the run finished, what it leaves in dir is kept on purpose.
func Unmark(dir string) error {
	if err := os.Remove(filepath.Join(dir, FileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Read returns the owner dir's mark names. The mark must be a small regular file (a link is
// not followed).
func Read(dir string) (Owner, error) {
	p := filepath.Join(dir, FileName)
	fi, err := os.Lstat(p)
	if err != nil {
		return Owner{}, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxMarkBytes {
		return Owner{}, fmt.Errorf("%s: not a mark (%v, %d bytes)", p, fi.Mode().Type(), fi.Size())
	}
	f, err := os.Open(p)
	if err != nil {
		return Owner{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMarkBytes))
	if err != nil {
		return Owner{}, err
	}
	var o Owner
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "pid":
			o.PID, _ = strconv.Atoi(v)
		case "start":
			o.Start = v
		case "boot":
			o.Boot = v
		}
	}
	if o.PID <= 0 {
		return Owner{}, fmt.Errorf("%s: no owner PID in the mark", p)
	}
	return o, nil
}

// Match decides whether an entry of a swept root is one of ours: ok when the name has our
// prefix; pid is the owner's PID when the name carries it (0: it does not).
type Match func(name string) (pid int, ok bool)

// Prefix matches names that start with prefix; a name of the form <prefix><pid>-<rest>
// carries its owner's PID.
func Prefix(prefix string) Match {
	return func(name string) (int, bool) {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "" {
			return 0, false
		}
		if digits, _, found := strings.Cut(rest, "-"); found {
			if pid, err := strconv.Atoi(digits); err == nil && pid > 0 {
				return pid, true
			}
		}
		return 0, true
	}
}

// Stale reports whether dir (named name, matched by m) was left by a process that is gone.
func Stale(dir string, namePID int) bool {
	o, err := Read(dir)
	if err != nil {
		// No mark (yet): stale only when the name says whose it is and that one is gone.
		return errors.Is(err, os.ErrNotExist) && namePID > 0 && !pidAlive(namePID)
	}
	return !o.Alive()
}

// Sweep removes the stale directories among root's entries that m matches and this user
// owns, and returns the paths it removed. Entries it cannot judge are kept; errors are of
// removals that failed (root missing is no error).
func Sweep(root string, m Match) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		namePID, ok := m(e.Name())
		if !ok {
			continue
		}
		p := filepath.Join(root, e.Name())
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() || !ownedByMe(fi) {
			continue // a link, a file, someone else's: never ours to remove
		}
		if namePID == os.Getpid() {
			continue // ours, running now
		}
		if !Stale(p, namePID) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("remove the stale %s: %w", p, err))
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}

// TempDir makes a fresh 0700 directory prefix<pid>-<random> under parent (the system
// temporary directory when ""), marked as this process's, after removing the directories of
// that prefix that killed runs left there (best effort: a leftover that cannot be removed must
// not stop the run). The caller removes it when done; if this process is killed first, the
// next TempDir with the same prefix removes it.
func TempDir(parent, prefix string) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	_, _ = Sweep(parent, Prefix(prefix))
	dir, err := os.MkdirTemp(parent, prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return "", err
	}
	if err := Mark(dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
