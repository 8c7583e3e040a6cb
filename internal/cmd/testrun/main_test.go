package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// module writes a throwaway module: a package that passes, one that fails, one whose test
// binary exits before it reports (a crash), and one without tests.
func module(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":             "module example.com/m\n\ngo 1.22\n",
		"good/good.go":       "package good\n\nfunc One() int { return 1 }\n",
		"good/good_test.go":  "package good\n\nimport \"testing\"\n\nfunc TestOne(t *testing.T) {\n\tif One() != 1 {\n\t\tt.Fatal(\"no\")\n\t}\n}\n",
		"bad/bad.go":         "package bad\n",
		"bad/bad_test.go":    "package bad\n\nimport \"testing\"\n\nfunc TestBroken(t *testing.T) { t.Fatal(\"broken on purpose\") }\n",
		"crash/crash.go":     "package crash\n",
		"crash/main_test.go": "package crash\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestMain(m *testing.M) { os.Exit(3) }\n\nfunc TestNever(t *testing.T) {}\n",
		"none/none.go":       "package none\n",
		// Two packages whose test binaries go test -c would give one name (good.test).
		"other/good/good_test.go": "package good\n\nimport \"testing\"\n\nfunc TestOther(t *testing.T) {}\n",
		"wd/wd_test.go":           "package wd\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestRunsInItsDirectory(t *testing.T) {\n\tif _, err := os.Stat(\"wd_test.go\"); err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runTestrun(t *testing.T, dir string, args ...string) (events []event, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TESTRUN_AS_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a go test -json event: %q", sc.Text())
		}
		events = append(events, e)
	}
	return events, errb.String(), code
}

// TestMain lets the test binary be testrun itself (TESTRUN_AS_MAIN=1): the tests run the real
// command, in the throwaway module's directory.
func TestMain(m *testing.M) {
	if os.Getenv("TESTRUN_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestEventsAndExitCodeAreGoTests(t *testing.T) {
	dir := module(t)
	events, stderr, code := runTestrun(t, dir, "-p", "2", "./good", "./bad", "./crash", "./none", "./wd", "./...")
	if code != 1 {
		t.Errorf("exit %d, want 1 (a package failed); stderr:\n%s", code, stderr)
	}
	final := map[string]string{}   // package -> its last package-level action
	summary := map[string]string{} // package -> its "ok"/"FAIL"/"?" line
	var order []string
	for _, e := range events {
		if e.Test != "" {
			continue
		}
		switch e.Action {
		case "start":
			order = append(order, e.Package)
		case "pass", "fail", "skip":
			final[e.Package] = e.Action
		case "output":
			if f := strings.Fields(e.Output); len(f) > 0 && (f[0] == "ok" || f[0] == "FAIL" || f[0] == "?") {
				summary[e.Package] = f[0]
			}
		}
	}
	for pkg, want := range map[string][2]string{
		"example.com/m/good":       {"pass", "ok"},
		"example.com/m/bad":        {"fail", "FAIL"},
		"example.com/m/crash":      {"fail", "FAIL"},
		"example.com/m/none":       {"skip", "?"},
		"example.com/m/wd":         {"pass", "ok"},
		"example.com/m/other/good": {"pass", "ok"},
	} {
		if final[pkg] != want[0] || summary[pkg] != want[1] {
			t.Errorf("%s: final action %q, line %q; want %q, %q", pkg, final[pkg], summary[pkg], want[0], want[1])
		}
	}
	if len(order) != 6 {
		t.Errorf("packages started: %v, want each of the 6 once", order)
	}
	// The failed test's own output is there for testsum to print.
	var sawBroken bool
	for _, e := range events {
		if e.Test == "TestBroken" && strings.Contains(e.Output, "broken on purpose") {
			sawBroken = true
		}
	}
	if !sawBroken {
		t.Error("no output event carries the failing test's message")
	}
	// The binaries stay for the next run.
	if _, err := os.Stat(filepath.Join(dir, binDir, "good.test")); err != nil {
		t.Errorf("test binary not kept: %v", err)
	}
}

func TestBadFlagsExit2(t *testing.T) {
	_, stderr, code := runTestrun(t, t.TempDir(), "-p", "0")
	if code != 2 || !strings.Contains(stderr, "-p 0") {
		t.Errorf("exit %d, stderr %q; want 2 naming -p 0", code, stderr)
	}
}
