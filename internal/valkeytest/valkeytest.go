// Package valkeytest starts real valkey-server processes on loopback for tests.
//
// It exists so that code speaking the Valkey protocol (the validator) is tested against the
// real server (TLS, ACL users, the ElastiCache Serverless shape of one master with every slot
// and its replica as the read port, a 3-master cluster, killed and paused nodes) instead of a mock
// that would agree with our own mistakes. Its types are internal/localvalkey's (which the
// drill's local stand-in also uses); this package is only the testing.TB glue: every process
// and file lives under t.TempDir() and is removed by t.Cleanup, even when the test fails, a
// start that fails fails the test, and nil Options.Users means the standard users.
package valkeytest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// The launcher's types, under the names the tests use.
type (
	Options = localvalkey.Options
	Server  = localvalkey.Server
	Cluster = localvalkey.Cluster
	CA      = localvalkey.CA
	User    = localvalkey.User
)

// Binaries returns the paths of valkey-server and valkey-cli.
//
// When they are missing or older than Valkey 8, the test is skipped with an install hint,
// except under CI=true where it fails: CI must never pass by silently skipping the tests that
// use real servers.
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

// NewCA makes a CA whose files live in t.TempDir().
func NewCA(t testing.TB) *CA {
	t.Helper()
	ca, err := localvalkey.NewCA(t.TempDir())
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	return ca
}

// StartStandalone starts a single non-cluster server and waits until it answers PING as
// admin. The process is killed by t.Cleanup.
func StartStandalone(t testing.TB, opts Options) *Server {
	t.Helper()
	return start(t, opts, localvalkey.StartStandalone)
}

// StartCluster starts three cluster-enabled servers, joins them and waits (up to
// localvalkey.ClusterTimeout) until the cluster converged. Every process is killed by
// t.Cleanup.
func StartCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	return start(t, opts, localvalkey.StartCluster)
}

// StartServerless starts the ElastiCache Serverless shape (localvalkey.TopologyServerless):
// one master owning every slot (Primary, the primary port) and its replica (Replica, the
// read port), both announcing "localhost". nil Options.Users means ServerlessUsers(). Every
// process is killed by t.Cleanup.
func StartServerless(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Users == nil {
		opts.Users = ServerlessUsers()
	}
	return start(t, opts, localvalkey.StartServerless)
}

// start launches with the launcher's start function, every file under t.TempDir(), and
// closes what it started in t.Cleanup; a launcher error fails the test.
func start[T interface{ Close() error }](t testing.TB, opts Options, launch func(context.Context, Options) (T, error)) T {
	t.Helper()
	Binaries(t)
	opts.Users = withAdmin(opts.Users)
	// Registered before the Cleanup below, so Close runs before the directory is removed.
	opts.Dir = t.TempDir()
	v, err := launch(context.Background(), opts)
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	t.Cleanup(func() {
		if err := v.Close(); err != nil {
			t.Errorf("valkeytest: %v", err)
		}
	})
	return v
}

// doer and sizer are a *Server or a *Cluster.
type (
	doer interface {
		Do(args ...string) (string, error)
	}
	sizer interface{ DBSize() (int, error) }
)

// Do runs one command with valkey-cli as admin on a server, or on a cluster (following
// MOVED redirects), and returns its trimmed stdout; an error reply or a refused connection
// fails the test. The password travels in REDISCLI_AUTH, never in argv.
func Do(t testing.TB, on doer, args ...string) string {
	t.Helper()
	out, err := on.Do(args...)
	if err != nil {
		t.Fatalf("valkeytest: %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// DBSize returns the number of keys on a server, or in a cluster (summed over the nodes that
// still run); an error fails the test.
func DBSize(t testing.TB, on sizer) int {
	t.Helper()
	n, err := on.DBSize()
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	return n
}
