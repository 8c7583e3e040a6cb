package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionPrefersTheStampThenTheReleaseThenTheRevision(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	bi := func(modVersion string, settings ...string) *debug.BuildInfo {
		b := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/valkey-dr/valkey-dr", Version: modVersion}}
		for i := 0; i+1 < len(settings); i += 2 {
			b.Settings = append(b.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return b
	}
	for name, tc := range map[string]struct {
		stamped string
		bi      *debug.BuildInfo
		ok      bool
		want    string
		line    []string
	}{
		"the kit's stamp wins":   {"0123456789abcdef", bi("(devel)", "vcs.revision", rev), true, "0123456789abcdef", []string{"commit " + rev}},
		"a release":              {"dev", bi("v1.2.3", "vcs.revision", rev), true, "v1.2.3", []string{"module github.com/valkey-dr/valkey-dr v1.2.3"}},
		"a checkout build":       {"dev", bi("(devel)", "vcs.revision", rev, "vcs.modified", "false", "vcs.time", "2026-12-01T00:00:00Z"), true, "dev-0123456789ab", []string{"commit " + rev + " of 2026-12-01T00:00:00Z", "go1.26.8"}},
		"uncommitted changes":    {"dev", bi("(devel)", "vcs.revision", rev, "vcs.modified", "true"), true, "dev-0123456789ab-dirty", []string{"with uncommitted changes (vcs.modified)"}},
		"no VCS information":     {"dev", bi("(devel)"), true, "dev", []string{"no VCS information"}},
		"no build info at all":   {"dev", nil, false, "dev", []string{"no VCS information"}},
		"cross-built for darwin": {"dev", bi("(devel)", "GOOS", "darwin", "GOARCH", "arm64"), true, "dev", []string{"darwin/arm64"}},
	} {
		t.Run(name, func(t *testing.T) {
			i := FromBuildInfo(tc.stamped, tc.bi, tc.ok)
			if got := i.Version(); got != tc.want {
				t.Errorf("Version() = %q, want %q", got, tc.want)
			}
			for _, w := range tc.line {
				if !strings.Contains(i.String(), w) {
					t.Errorf("String() = %q, want it to contain %q", i.String(), w)
				}
			}
		})
	}
}
