// Package localvalkey starts real valkey-server processes on 127.0.0.1 (standalone, the
// ElastiCache Serverless shape of docs/design.md, "Serverless as clients see it", or a 3-master cluster; optionally TLS-only
// with a throwaway CA, ACL users from a 0600 config file) and stops them again.
//
// It is the launcher behind internal/valkeytest (tests) and the `make drill` local stand-in.
// It never imports testing: every failure is an error, and the caller owns the lifetime
// through Close (which also removes the directories it made). On Linux every server gets
// SIGKILL from the kernel if the process that started it dies without calling Close, so a
// crashed test binary or an interrupted drill leaves no valkey-server behind. The files that
// hold secrets (config with the ACL passwords, the TLS private key) are removed as soon as the
// servers have read them, and every start sweeps the directories a killed owner left
// (stale.go), so a SIGKILL strands no secret for longer than until the next start.
package localvalkey

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Timeouts of the launcher. They are bounds, not sleeps: every wait polls.
const (
	// ReadyTimeout bounds how long a started server may take to answer PING.
	ReadyTimeout = 10 * time.Second
	// ClusterTimeout bounds how long a new cluster may take to converge.
	ClusterTimeout = 20 * time.Second
	// CLITimeout bounds one valkey-cli run, so a paused server cannot hang the caller.
	CLITimeout = 15 * time.Second
	// startAttempts is how often a start is retried when another process took
	// the port between our probe and the server's bind.
	startAttempts = 5
	// pollInterval is the pause between readiness probes.
	pollInterval = 50 * time.Millisecond
)

// InstallHint tells a developer how to get the binaries on Debian bookworm, the platform the
// project's CI uses.
const InstallHint = "apt-get install -t bookworm-backports valkey-server valkey-tools " +
	"(add 'deb http://deb.debian.org/debian bookworm-backports main' to apt sources)"

// MinMajor is the lowest valkey-server major version accepted: the validator targets
// ElastiCache Valkey 8 behaviour (CLUSTER SHARDS, ACL DRYRUN).
const MinMajor = 8

var (
	binOnce   sync.Once
	binServer string
	binCLI    string
	binErr    error
)

var versionRE = regexp.MustCompile(`v=(\d+)\.(\d+)\.(\d+)`)

// Binaries returns the paths of valkey-server and valkey-cli, or an error naming what is
// missing (or too old). The lookup runs once per process.
func Binaries() (server, cli string, err error) {
	binOnce.Do(func() { binServer, binCLI, binErr = findBinaries() })
	return binServer, binCLI, binErr
}

// ServerVersion returns the version valkey-server reports ("8.0.1"), for evidence.
func ServerVersion() (string, error) {
	server, _, err := Binaries()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(server, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("run %s --version: %w", server, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s --version: cannot parse version from %q", server, out)
	}
	return fmt.Sprintf("%s.%s.%s", m[1], m[2], m[3]), nil
}

// findBinaries looks the binaries up on PATH and checks the server version.
func findBinaries() (string, string, error) {
	server, err := exec.LookPath("valkey-server")
	if err != nil {
		return "", "", fmt.Errorf("valkey-server not found on PATH: %w", err)
	}
	cli, err := exec.LookPath("valkey-cli")
	if err != nil {
		return "", "", fmt.Errorf("valkey-cli not found on PATH: %w", err)
	}
	out, err := exec.Command(server, "--version").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("run %s --version: %w", server, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", "", fmt.Errorf("%s --version: cannot parse version from %q", server, out)
	}
	major, _ := strconv.Atoi(string(m[1]))
	if major < MinMajor {
		return "", "", fmt.Errorf("%s is version %s.%s.%s: need >= %d", server, m[1], m[2], m[3], MinMajor)
	}
	return server, cli, nil
}

// writeFile writes data with perm, naming the path in the error.
func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("localvalkey: write %s: %w", path, err)
	}
	return nil
}
