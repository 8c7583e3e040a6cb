// Command testsum reads the `go test -json` events that make test's gotestsum wrote
// (--jsonfile) and prints what gotestsum does not: the skipped tests grouped by the reason
// given to t.Skip, each reason tagged opt-in or MISSING PREREQUISITE.
//
//	go run ./internal/cmd/testsum < .build/test.json
//
// Outside CI a test skipped for a missing prerequisite (valkey-server, Node, the CDK CLI) is
// also reported in a banner: that run proves less than CI does. Under CI=true the test helpers
// already fail such a test instead of skipping it. testsum exits 1 when the input holds no test
// event (the tests did not run), else 0: gotestsum's exit status is the verdict.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is the part of a `go test -json` line (cmd/test2json) this reads.
type event struct {
	Action, Package, Test, Output string
}

func main() {
	skips, events, err := read(os.Stdin)
	if err == nil && events == 0 {
		err = fmt.Errorf("no `go test -json` events on stdin")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		os.Exit(1)
	}
	report(os.Stdout, skips, os.Getenv("CI") == "true")
}

// read returns the reasons of the skipped tests by test name ("pkg.Test") and the number of events.
func read(r io.Reader) (map[string]string, int, error) {
	out := map[string][]string{} // package + "\x00" + test -> output lines
	skips := map[string]string{}
	n := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Test == "" {
			continue
		}
		n++
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			out[key] = append(out[key], e.Output)
		case "skip":
			skips[shortPkg(e.Package)+"."+e.Test] = skipReason(out[key])
			fallthrough
		case "pass", "fail":
			delete(out, key)
		}
	}
	return skips, n, sc.Err()
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

// report prints the skipped tests by reason and, outside CI, the banner of a missing
// prerequisite.
func report(w io.Writer, skips map[string]string, ci bool) {
	if len(skips) == 0 {
		return
	}
	byReason := map[string][]string{}
	for test, reason := range skips {
		byReason[reason] = append(byReason[reason], test)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
		sort.Strings(byReason[r])
	}
	sort.Strings(reasons)
	fmt.Fprintf(w, "skipped tests (%d), by reason:\n", len(skips))
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
