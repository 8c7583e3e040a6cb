// Package valkeytest starts real valkey-server processes on loopback for tests.
//
// It exists so that code speaking the Valkey protocol (the validator) is tested against the
// real server (TLS, ACL users, the ElastiCache Serverless shape of one master with every slot
// and its replica as the read port, a 3-master cluster, killed and paused nodes) instead of a mock
// that would agree with our own mistakes. It is a thin testing.TB layer over
// internal/localvalkey (which the drill's local stand-in also uses): every process and file
// lives under t.TempDir() and is removed by t.Cleanup, even when the test fails, and a start
// that fails fails the test.
package valkeytest

import (
	"os"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// Binaries returns the paths of valkey-server and valkey-cli.
//
// When they are missing or older than Valkey 8, the test is skipped with an install hint,
// except under CI=true where it fails: CI must never pass by silently skipping the tests that
// use real servers (DESIGN.md section 9).
func Binaries(t testing.TB) (server, cli string) {
	t.Helper()
	server, cli, err := localvalkey.Binaries()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("valkeytest: %v; install with: %s", err, localvalkey.InstallHint)
		}
		t.Skipf("valkeytest: %v; install with: %s", err, localvalkey.InstallHint)
	}
	return server, cli
}
