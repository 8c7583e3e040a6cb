package procedure

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/internal/runowner"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// WorkDirPrefix starts the name of every run's working directory (the bundle's name:
// valkey-dr-<kind>-<name>-<stamp>).
const WorkDirPrefix = "valkey-dr-"

// A run's working directory (cloud assemblies, outputs files, the built validator) is marked
// with its process while the run goes (runowner); Finish removes the mark. A SIGKILL skips
// Finish: the next run's Start removes the working directories whose mark names a process
// that is gone (issue 23, must-have 6). Only marked directories named WorkDirPrefix* under
// the work root, owned by this user, are candidates; evidence is never touched (a work root
// that is or holds the evidence root is not swept, and bundles carry no mark).

// sweepWork removes the working directories of killed runs under root and says so on w.
func sweepWork(root string, w io.Writer) {
	removed, err := runowner.Sweep(root, func(name string) (int, bool) {
		// Only the mark decides: a bundle-style name carries no PID.
		return 0, strings.HasPrefix(name, WorkDirPrefix)
	})
	if w == nil {
		return
	}
	for _, p := range removed {
		fmt.Fprintf(w, "removed the working directory of a killed run: %s\n", termsafe.Escape(p))
	}
	if err != nil {
		fmt.Fprintf(w, "could not remove the working directory of a killed run: %s\n", termsafe.Escape(err.Error()))
	}
}

// reaches reports whether sweeping the children of work could reach evidence: the same
// directory, or evidence inside work (or either cannot be resolved). A work root inside the
// evidence root (the drill's <out>/work beside its bundles in <out>) is fine: the sweep looks
// only at the work root's own entries.
func reaches(work, evidence string) bool {
	if work == "" || evidence == "" {
		return true
	}
	w, err1 := filepath.Abs(work)
	e, err2 := filepath.Abs(evidence)
	if err1 != nil || err2 != nil {
		return true
	}
	rel, err := filepath.Rel(w, e)
	return err != nil || rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}
