// Package buildinfo is the one version of every binary of valkey-dr (drctl, the validator,
// the canary): the version stamped at build time (-ldflags "-X main.version=..."; the DR kit
// stamps its commit), else the module version, else the VCS revision Go records in the
// binary (vcs.revision, vcs.modified), read through runtime/debug.ReadBuildInfo.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Unstamped is the version of a binary with no stamp, no module version and no VCS revision
// (go run, -buildvcs=false, a git worktree Go does not detect).
const Unstamped = "dev"

// Info is what a binary knows about its build.
type Info struct {
	// Stamped is the -ldflags version ("" or "dev" when none was given).
	Stamped string `json:"stamped,omitempty"`
	// Module and ModuleVersion are the main module's path and version ("(devel)" for a
	// build from a checkout).
	Module        string `json:"module,omitempty"`
	ModuleVersion string `json:"moduleVersion,omitempty"`
	// Revision is vcs.revision (the commit, full); Modified is vcs.modified (the tree had
	// uncommitted changes); Time is vcs.time (the commit's time).
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified"`
	Time     string `json:"vcsTime,omitempty"`
	// Go is the toolchain that built the binary; Platform its GOOS/GOARCH.
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// Read is the running binary's Info; stamped is its main.version variable.
func Read(stamped string) Info {
	bi, ok := debug.ReadBuildInfo()
	return FromBuildInfo(stamped, bi, ok)
}

// FromBuildInfo is Read over a given build info (tests).
func FromBuildInfo(stamped string, bi *debug.BuildInfo, ok bool) Info {
	i := Info{Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if stamped != Unstamped {
		i.Stamped = stamped
	}
	if !ok || bi == nil {
		return i
	}
	if bi.GoVersion != "" {
		i.Go = bi.GoVersion
	}
	i.Module, i.ModuleVersion = bi.Main.Path, bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		case "vcs.time":
			i.Time = s.Value
		case "GOOS":
			i.Platform = s.Value + i.Platform[strings.IndexByte(i.Platform, '/'):]
		case "GOARCH":
			i.Platform = i.Platform[:strings.IndexByte(i.Platform, '/')+1] + s.Value
		}
	}
	return i
}

// Version is the short version: the stamp; else the module version when it is a release;
// else dev-<12 hex of the revision>[-dirty]; else "dev".
func (i Info) Version() string {
	switch {
	case i.Stamped != "":
		return i.Stamped
	case i.ModuleVersion != "" && i.ModuleVersion != "(devel)":
		return i.ModuleVersion
	case len(i.Revision) >= 12:
		v := "dev-" + i.Revision[:12]
		if i.Modified {
			v += "-dirty"
		}
		return v
	}
	return Unstamped
}

// String is the --version line: "<name> <version> (commit <rev>[, modified], <module>
// <version>, <go> <platform>)"; a binary without VCS information says so.
func (i Info) String() string {
	commit := "no VCS information (go run, -buildvcs=false or a git worktree)"
	if i.Revision != "" {
		commit = "commit " + i.Revision
		if i.Modified {
			commit += " with uncommitted changes (vcs.modified)"
		}
		if i.Time != "" {
			commit += " of " + i.Time
		}
	}
	mod := ""
	if i.Module != "" {
		mod = fmt.Sprintf(", module %s %s", i.Module, i.ModuleVersion)
	}
	return fmt.Sprintf("%s (%s%s, %s %s)", i.Version(), commit, mod, i.Go, i.Platform)
}

// Version is Read(stamped).Version(): what a binary prints as its version.
func Version(stamped string) string { return Read(stamped).Version() }
