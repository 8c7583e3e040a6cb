package scripts

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// make clean offers to remove old drill bundles, make clean-drills KEEP=N removes them
// (issue 26, must-have 7: drill/ grew by ~10 MB a drill); evidence/ is never touched.
func TestCleanDrillsKeepsTheNewestAndNeverEvidence(t *testing.T) {
	root := t.TempDir()
	script, err := os.ReadFile("clean-drills")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "scripts", "clean-drills"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	base := time.Now().Add(-time.Hour)
	for i := range 7 {
		// Environments differ, so only mtime orders them.
		name := fmt.Sprintf("valkey-dr-drill-%s-2026120%dT000000Z", []string{"prod", "example"}[i%2], i)
		names = append(names, name)
		d := filepath.Join(root, "drill", name)
		write(filepath.Join(d, "metadata.json"))
		for _, ext := range []string{".tar.gz", ".tar.gz.sha256", ".signature.json"} {
			write(d + ext)
		}
		write(filepath.Join(root, "drill", "work", name, "cdk.out", "manifest.json"))
		at := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(d, at, at); err != nil {
			t.Fatal(err)
		}
	}
	evidence := filepath.Join(root, "evidence", "valkey-dr-activate-prod-20260101T000000Z.tar.gz")
	write(evidence)
	evidenceDrill := filepath.Join(root, "evidence", "valkey-dr-drill-example-20200101T000000Z", "metadata.json")
	write(evidenceDrill)

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "scripts", "clean-drills"), args...)
		cmd.Stdin = nil // not a terminal: --ask only says what it would remove
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("clean-drills %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("--ask", "--keep", "5"); !strings.Contains(out, "2 drill bundle(s) under drill/ older than the newest 5") || !strings.Contains(out, "make clean-drills KEEP=5") {
		t.Fatalf("--ask without a terminal: %s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "drill", names[0])); err != nil {
		t.Fatal("--ask without a terminal removed a bundle")
	}
	if out := run("--yes", "--keep", "5"); !strings.Contains(out, "clean: removed 2 drill bundle(s)") {
		t.Fatalf("--yes: %s", out)
	}
	for i, name := range names {
		d := filepath.Join(root, "drill", name)
		for _, p := range []string{d, d + ".tar.gz", d + ".tar.gz.sha256", d + ".signature.json", filepath.Join(root, "drill", "work", name)} {
			_, err := os.Stat(p)
			if gone := os.IsNotExist(err); gone != (i < 2) {
				t.Errorf("bundle %d %s: removed %v, want %v", i, p, gone, i < 2)
			}
		}
	}
	for _, p := range []string{evidence, evidenceDrill} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("evidence/ was touched: %v", err)
		}
	}
	if out := run("--yes", "--keep", "0"); !strings.Contains(out, "removed 5") {
		t.Fatalf("KEEP=0: %s", out)
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "clean-drills"), "--keep", "five")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "KEEP=five") {
		t.Fatalf("KEEP=five: %v %s", err, out)
	}
}
