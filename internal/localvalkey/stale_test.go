package localvalkey

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/procfs"
	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

// killHelperEnv makes TestKilledOwnerHelper (run in a child test binary) start a stand-in and
// wait to be killed.
const killHelperEnv = "LOCALVALKEY_KILL_HELPER"

// helperReadyFile, in the helper's TMPDIR, says it blocks with its server started.
const helperReadyFile = "helper.ready"

// TestKilledOwnerHelper is the process TestStartSweepsWhatAKilledOwnerLeft kills with SIGKILL:
// it makes a stand-in directory with a password file (as the drill does), starts a TLS server
// and blocks before the launcher forgets the key.
func TestKilledOwnerHelper(t *testing.T) {
	if os.Getenv(killHelperEnv) == "" {
		t.Skip("run by TestStartSweepsWhatAKilledOwnerLeft")
	}
	dir, err := NewStandInDir("")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.password"), []byte("stand-in-password-of-a-killed-run\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = StartStandalone(context.Background(), Options{TLS: true, beforeForget: func() {
		// The key is written before the server is spawned: only this point says both exist.
		if err := os.WriteFile(filepath.Join(os.TempDir(), helperReadyFile), nil, 0o600); err != nil {
			t.Errorf("announce: %v", err)
		}
		select {} // killed here, with the key on disk and its server running
	}})
	t.Fatalf("the helper was not killed: %v", err)
}

// TestStartSweepsWhatAKilledOwnerLeft kills (SIGKILL) a process while its stand-in starts,
// finds its password file and TLS key still on disk, and proves the next start removes them,
// never a live process's directory.
func TestStartSweepsWhatAKilledOwnerLeft(t *testing.T) {
	need(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir: where the stand-ins of both processes go
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledOwnerHelper$", "-test.v")
	cmd.Env = append(os.Environ(), killHelperEnv+"=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The helper blocks with its server started and the key on disk: wait for it to say so.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(tmp, helperReadyFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("the helper did not reach the start's end in 30 s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	serverPIDs := procfs.Children(cmd.Process.Pid)
	if len(serverPIDs) == 0 {
		t.Fatal("the helper has no valkey-server child")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// What SIGKILL strands: the password file and the server's private key.
	stranded, _ := filepath.Glob(filepath.Join(tmp, StandInDirPrefix+strconv.Itoa(cmd.Process.Pid)+"-*", "*"))
	var secrets []string
	for _, p := range stranded {
		if strings.HasSuffix(p, ".key") || strings.HasSuffix(p, "app.password") {
			secrets = append(secrets, p)
		}
	}
	if len(secrets) != 2 {
		t.Fatalf("after SIGKILL the killed run's dirs hold %q: want its key and password file (the case this test is about)", stranded)
	}
	// Its servers died with it (parent-death signal).
	for _, pid := range serverPIDs {
		waitGone(t, pid, 20*time.Second) // generous: a loaded 2-core CI host
	}

	// A live process's directory, even without a mark, is never swept: this test's own.
	mine, err := NewStandInDir("")
	if err != nil {
		t.Fatal(err)
	}
	unmarked := filepath.Join(tmp, StandInDirPrefix+strconv.Itoa(os.Getpid())+"-unmarked")
	if err := os.Mkdir(unmarked, 0o700); err != nil {
		t.Fatal(err)
	}
	// A killed run of an older build (no PID in the name, no mark) cannot be judged: kept.
	legacy := filepath.Join(tmp, StandInDirPrefix+"123456")
	if err := os.Mkdir(legacy, 0o700); err != nil {
		t.Fatal(err)
	}

	s, err := StartStandalone(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range secrets {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the next start left %s of the killed run: %v", p, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, StandInDirPrefix+strconv.Itoa(cmd.Process.Pid)+"-*")); len(left) != 0 {
		t.Errorf("the killed run's directories survive the next start: %q", left)
	}
	for _, p := range []string{mine, filepath.Join(mine, runowner.FileName), unmarked, legacy, s.Dir} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a live directory was swept: %v", err)
		}
	}
	// A second sweep while this process runs removes nothing of it.
	if removed, err := SweepStale(""); err != nil || len(removed) != 0 {
		t.Fatalf("SweepStale with only live owners: removed %q, %v", removed, err)
	}
}

// waitGone fails unless pid is gone (or a zombie) within d.
func waitGone(t *testing.T, pid int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !(runowner.Owner{PID: pid}).Alive() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("pid %d still runs %v after its owner was killed", pid, d)
}
