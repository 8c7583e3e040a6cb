// Package scripts holds the tests of the repository's shell scripts (scripts/prereqs).
package scripts

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// basics are the commands scripts/prereqs and make need, linked into a PATH of their own.
var basics = []string{"bash", "env", "uname", "id", "sed", "sort", "head", "grep", "dirname", "touch", "cat", "go", "node", "npm", "make"}

// fakePath makes a PATH directory with links to basics (those this machine has) and extra,
// and without apt-get or valkey-* unless extra names them.
func fakePath(t *testing.T, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range append(basics, extra...) {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type result struct {
	out     string
	code    int
	elapsed time.Duration
}

func run(t *testing.T, path string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = ".."
	home, _ := os.UserHomeDir()
	cmd.Env = []string{"PATH=" + path, "HOME=" + home, "GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE"), "GOFLAGS=-mod=mod"}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	r := result{out: buf.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("%s: %v\n%s", name, err, r.out)
	}
	return r
}

func goEnv(t *testing.T, key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// Without apt-get (a Mac, say) and without valkey-server, the check and the two README
// commands stop within seconds, before any build, with the commands to run and exit non-zero.
func TestWithoutAptGetStopsAtOnceWithTheInstallCommands(t *testing.T) {
	path := fakePath(t)
	wants := []string{
		"valkey-server is not on PATH",
		"apt-get install -y -t bookworm-backports valkey-server valkey-tools",
		"deb http://deb.debian.org/debian bookworm-backports main",
		"brew install valkey node@24",
	}
	tests := map[string][]string{
		"scripts/prereqs": {"bash", "scripts/prereqs"},
		"make drill":      {filepath.Join(path, "make"), "--no-print-directory", "drill"},
		"make test":       {filepath.Join(path, "make"), "--no-print-directory", "test"},
	}
	for name, argv := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(argv[0]); argv[0] != "bash" && err != nil {
				t.Skipf("no make on this machine: %v", err)
			}
			r := run(t, path, argv[0], argv[1:]...)
			if r.code == 0 {
				t.Fatalf("exit 0, want non-zero; output:\n%s", r.out)
			}
			if r.elapsed > 10*time.Second {
				t.Errorf("took %s, want under 10 s", r.elapsed)
			}
			for _, w := range wants {
				if !strings.Contains(r.out, w) {
					t.Errorf("output lacks %q:\n%s", w, r.out)
				}
			}
			for _, never := range []string{"go build", "go test", "cdk synth", "prereqs: npm ci:", "installing:"} {
				if strings.Contains(r.out, never) {
					t.Errorf("output shows %q: something ran before the check stopped:\n%s", never, r.out)
				}
			}
			t.Logf("exit %d after %s", r.code, r.elapsed.Round(time.Millisecond))
		})
	}
}

// As root with apt-get and without valkey-server, --dry-run shows the install it would do.
func TestAsRootWithAptGetPlansTheInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("install path: needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("install path: needs apt-get (Debian/Ubuntu)")
	}
	r := run(t, fakePath(t, "apt-get"), "bash", "scripts/prereqs", "--dry-run", "valkey")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", r.code, r.out)
	}
	want := "installing: apt-get install -y -qq --no-install-recommends"
	if osRelease("VERSION_CODENAME") == "bookworm" {
		want += " -t bookworm-backports"
	}
	for _, w := range []string{"--dry-run: printing what would be installed, changing nothing", "installing: apt-get update", want + " valkey-server valkey-tools"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("output lacks %q:\n%s", w, r.out)
		}
	}
}

func TestUnknownArgumentIsRefused(t *testing.T) {
	r := run(t, fakePath(t), "bash", "scripts/prereqs", "valky")
	if r.code != 2 || !strings.Contains(r.out, `unknown argument "valky": accepted are --dry-run, --no-install, go, node, valkey`) {
		t.Fatalf("exit %d, output:\n%s", r.code, r.out)
	}
}

func osRelease(key string) string {
	b, _ := os.ReadFile("/etc/os-release")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
