package main

import (
	"bytes"
	"context"
	"errors"
	"github.com/valkey-dr/valkey-dr/contract"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
)

// TestInterruptedVerifyIsNeverVerified: a verify the first SIGINT/SIGTERM reaches (its context
// cancelled, as main does) ends with the interrupted status and says so, for a bundle that
// would verify: never VERIFIED, never a finding.
func TestInterruptedVerifyIsNeverVerified(t *testing.T) {
	isolate(t)
	key := filepath.Join(t.TempDir(), "k.key")
	signer, _, err := evidence.LoadOrCreateLocalKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := seal(t, t.TempDir(), signer, "pass", map[string]string{"validation/report.json": strings.Repeat("x", 1<<20)})
	if code, out := run("verify", "--signing-key", key, sealed.Tarball); code != 0 || !strings.Contains(out, "VERIFIED (") {
		t.Fatalf("the bundle does not verify uninterrupted (exit %d):\n%s", code, out)
	}
	for name, path := range map[string]string{"tarball": sealed.Tarball, "directory": sealed.Dir} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var out, errb bytes.Buffer
			code := Main(ctx, []string{"verify", "--signing-key", key, path}, &out, &errb)
			all := out.String() + errb.String()
			if code != contract.ExitInterrupted || !strings.Contains(all, "interrupted") || strings.Contains(all, "VERIFIED") {
				t.Fatalf("an interrupted verify: exit %d, want %d, \"interrupted\" and no VERIFIED:\n%s", code, contract.ExitInterrupted, all)
			}
		})
	}
}

// TestVerifyStuckAfterASignalExits: a read that ignores the interrupt (stuck in the kernel)
// cannot hold verify past verifyGrace: the process exits with the interrupted status.
func TestVerifyStuckAfterASignalExits(t *testing.T) {
	isolate(t)
	release := make(chan struct{})
	var once sync.Once
	exited := make(chan int, 1)
	oldRead, oldExit, oldGrace := readBundle, exitNow, verifyGrace
	t.Cleanup(func() { readBundle, exitNow, verifyGrace = oldRead, oldExit, oldGrace })
	readBundle = func(context.Context, string) (*evidence.Contents, error) {
		<-release // deaf to ctx, like a read stuck in the kernel
		return nil, errors.New("stuck read released")
	}
	exitNow = func(code int) {
		exited <- code
		once.Do(func() { close(release) })
	}
	verifyGrace = 100 * time.Millisecond
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	start := time.Now()
	code := Main(ctx, []string{"verify", "--signing-key", filepath.Join(t.TempDir(), "none"), filepath.Join(t.TempDir(), "bundle.tar.gz")}, &out, &errb)
	select {
	case c := <-exited:
		if c != contract.ExitInterrupted {
			t.Fatalf("exited %d, want %d", c, contract.ExitInterrupted)
		}
	default:
		t.Fatalf("verify was not ended after the grace (exit %d after %v):\n%s%s", code, time.Since(start), out.String(), errb.String())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("ended after %v, want about 150 ms", d)
	}
	if !strings.Contains(errb.String(), "exiting now, NOT verified") || strings.Contains(out.String()+errb.String(), "VERIFIED (") {
		t.Fatalf("stderr %q stdout %q", errb.String(), out.String())
	}
}
