// Command testsum reads `go test -json` on stdin and prints what a plain `go test` prints (a
// line per package, the output of failed tests), a note while a package runs long, and a
// closing summary that counts skipped tests and names why they were skipped.
//
//	go test -json ./... | go run ./internal/cmd/testsum
//
// It exits 1 when a test or a package failed (or the input had no test at all). Outside CI a
// test skipped for a missing prerequisite (valkey-server, Node, the CDK CLI) is reported in a
// banner; under CI=true the test helpers already fail such a test instead of skipping it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
	Elapsed    float64
}

// longHints says why a package is expected to run long; matched on the import path's suffix.
var longHints = map[string]string{
	"/validate":           "starts real valkey-server clusters with TLS",
	"/compliance":         "synthesizes every environment through jsii on Node 24 and the real CDK CLI",
	"/stacks":             "synthesizes stacks through jsii on Node 24",
	"/constructs":         "synthesizes constructs through jsii on Node 24",
	"/valkey-dr":          "synthesizes the app through jsii and the real CDK CLI",
	"/internal/drill":     "runs the whole drill: synth, a local valkey cluster, the validator",
	"/internal/cmd/drctl": "runs drctl end to end against local valkey servers",
}

const (
	longAfter  = 30 * time.Second
	tickPeriod = 15 * time.Second
)

type skip struct{ test, reason string }

type summary struct {
	mu                     sync.Mutex
	out                    io.Writer
	passed, failed, pkgBad int
	skipped                []skip
	testOut                map[string][]string // package + "\x00" + test -> output lines
	running                map[string]time.Time
	noted                  map[string]time.Duration
}

func main() {
	s := &summary{out: os.Stdout, testOut: map[string][]string{}, running: map[string]time.Time{}, noted: map[string]time.Duration{}}
	done := make(chan struct{})
	go s.tick(done)
	err := s.read(os.Stdin)
	close(done)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		os.Exit(1)
	}
	os.Exit(s.report(os.Getenv("CI") == "true"))
}

func (s *summary) tick(done <-chan struct{}) {
	t := time.NewTicker(tickPeriod)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			s.mu.Lock()
			s.noteLong(now)
			s.mu.Unlock()
		}
	}
}

// noteLong prints, at most every 30 s per package, which packages are still running and why
// that is expected.
func (s *summary) noteLong(now time.Time) {
	pkgs := make([]string, 0, len(s.running))
	for p := range s.running {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		d := now.Sub(s.running[p]).Round(time.Second)
		if d < longAfter || d-s.noted[p] < longAfter {
			continue
		}
		s.noted[p] = d
		why := "still running"
		for suffix, h := range longHints {
			if strings.HasSuffix(p, suffix) {
				why = h + ": a minute or two is expected"
			}
		}
		fmt.Fprintf(s.out, "   ... %s running for %s (%s)\n", p, d, why)
	}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	sawEvent := false
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(s.out, string(line)) // not an event (a tool's own message): pass it on
			continue
		}
		sawEvent = true
		s.mu.Lock()
		s.handle(e)
		s.mu.Unlock()
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !sawEvent {
		return fmt.Errorf("no `go test -json` events on stdin")
	}
	return nil
}

func (s *summary) handle(e event) {
	if e.Action == "build-output" {
		fmt.Fprint(s.out, e.Output)
		return
	}
	if e.Action == "build-fail" {
		s.pkgBad++
		return
	}
	if e.Test == "" {
		switch e.Action {
		case "start":
			s.running[e.Package] = time.Now()
		case "output":
			if o := e.Output; o != "PASS\n" && o != "FAIL\n" && !strings.HasPrefix(o, "=== ") {
				fmt.Fprint(s.out, o)
			}
		case "pass", "skip":
			delete(s.running, e.Package)
		case "fail":
			delete(s.running, e.Package)
			s.pkgBad++
		}
		return
	}
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "output":
		s.testOut[key] = append(s.testOut[key], e.Output)
	case "pass":
		s.passed++
		delete(s.testOut, key)
	case "fail":
		s.failed++
		fmt.Fprintf(s.out, "--- FAIL in %s: %s\n", shortPkg(e.Package), e.Test)
		for _, o := range s.testOut[key] {
			fmt.Fprint(s.out, o)
		}
		delete(s.testOut, key)
	case "skip":
		s.skipped = append(s.skipped, skip{test: shortPkg(e.Package) + "." + e.Test, reason: skipReason(s.testOut[key])})
		delete(s.testOut, key)
	}
}

// skipReason is the message given to t.Skip: the test's output less the framework's lines.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		// "file_test.go:30: reason" -> "reason"
		if i := strings.Index(t, ": "); i > 0 && strings.Contains(t[:i], ".go:") {
			t = t[i+2:]
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}

// prerequisite reports whether a skip is for a missing real part (valkey-server, Node, the
// CDK CLI) rather than a deliberate opt-in such as a benchmark.
func prerequisite(reason string) bool {
	r := strings.ToLower(reason)
	if strings.HasPrefix(r, "benchmark") {
		return false
	}
	for _, w := range []string{"valkey", "install with", "not found", "node", "cdk cli", "prereq"} {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

func shortPkg(p string) string {
	const module = "github.com/valkey-dr/valkey-dr"
	if p == module {
		return "."
	}
	return strings.TrimPrefix(p, module+"/")
}

func (s *summary) report(ci bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.out
	fmt.Fprintln(w)
	if len(s.skipped) > 0 {
		byReason := map[string][]string{}
		var reasons []string
		for _, k := range s.skipped {
			if _, ok := byReason[k.reason]; !ok {
				reasons = append(reasons, k.reason)
			}
			byReason[k.reason] = append(byReason[k.reason], k.test)
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, "skipped tests (%d), by reason:\n", len(s.skipped))
		missing := 0
		for _, r := range reasons {
			tag := "opt-in"
			if prerequisite(r) {
				tag = "MISSING PREREQUISITE"
				missing += len(byReason[r])
			}
			fmt.Fprintf(w, "  %3d  [%s] %s\n", len(byReason[r]), tag, r)
			fmt.Fprintf(w, "       %s\n", strings.Join(byReason[r], ", "))
		}
		if missing > 0 && !ci {
			bar := strings.Repeat("!", 78)
			fmt.Fprintf(w, "%s\n!! %d tests did NOT run: a real part they need is missing (see above).\n"+
				"!! This run proves less than CI does. Install it: scripts/prereqs (prints the commands).\n%s\n",
				bar, missing, bar)
		}
	}
	total := s.passed + s.failed + len(s.skipped)
	fmt.Fprintf(w, "summary: %d passed, %d failed, %d skipped\n", s.passed, s.failed, len(s.skipped))
	if s.failed > 0 || s.pkgBad > 0 || total == 0 {
		return 1
	}
	return 0
}
