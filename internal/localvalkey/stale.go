package localvalkey

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

// StandInDirPrefix starts the name of every directory the launcher makes (and of the
// drill's and stand-in's own temporary directories, made with NewStandInDir): the
// sweep removes only directories so named.
const StandInDirPrefix = "valkey-dr-stand-in-"

// A SIGKILL skips Close: the directories of a killed owner (the config files with the ACL
// passwords until the servers have read them, the TLS private key, the drill's password file)
// stay behind. Every start therefore sweeps them (issue 23, must-have 6): directories under
// the system temporary directory (and under Options.Dir) named StandInDirPrefix<pid>-*, owned
// by this user, whose owner process is gone (runowner: PID, start time and boot id in a mark
// file). A directory of a live process, even another user's or one without a mark yet, is
// never touched. The servers of a killed owner are already gone: the kernel kills them with
// their parent (proc_linux.go).

// NewStandInDir makes a fresh 0700 directory StandInDirPrefix<pid>-* under parent (the system
// temporary directory when ""), marked as this process's, after sweeping the stale ones a
// killed run left. Remove it when done; if this process is killed first, the next start
// removes it.
func NewStandInDir(parent string) (string, error) {
	// The system temporary directory is swept too: a caller's own parent is not the only
	// place a killed stand-in left secrets.
	_, _ = SweepStale(parent)
	dir, err := runowner.TempDir(parent, StandInDirPrefix)
	if err != nil {
		return "", fmt.Errorf("localvalkey: make directory: %w", err)
	}
	return dir, nil
}

// SweepStale removes the stand-in directories of dead owners under the system temporary
// directory and under parent (when set), and returns what it removed.
func SweepStale(parent string) ([]string, error) {
	roots := []string{os.TempDir()}
	if parent != "" && filepath.Clean(parent) != filepath.Clean(os.TempDir()) {
		roots = append(roots, parent)
	}
	var removed []string
	var errs []error
	for _, root := range roots {
		r, err := runowner.Sweep(root, runowner.Prefix(StandInDirPrefix))
		removed = append(removed, r...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// adopt marks dir as this process's when its name is a stand-in directory's and it has no
// mark: a caller that made it with os.MkdirTemp(StandInDirPrefix+"*") and starts servers in
// it owns it, and the sweep can then remove it after a kill.
func adopt(dir string) {
	if dir == "" || !strings.HasPrefix(filepath.Base(dir), StandInDirPrefix) {
		return
	}
	if _, err := runowner.Read(dir); errors.Is(err, os.ErrNotExist) {
		_ = runowner.Mark(dir)
	}
}
