package main

import (
	"strings"
	"testing"
)

// TestSkipsByReason: skipped tests are grouped by the reason given to t.Skip (the file:line
// prefix dropped), a missing prerequisite gets the banner outside CI and none under CI=true.
func TestSkipsByReason(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"github.com/valkey-dr/valkey-dr/validate"}`,
		`{"Action":"run","Package":"github.com/valkey-dr/valkey-dr/validate","Test":"TestA"}`,
		`{"Action":"output","Package":"github.com/valkey-dr/valkey-dr/validate","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"github.com/valkey-dr/valkey-dr/validate","Test":"TestA","Output":"    a_test.go:9: valkeytest: valkey-server not found; install with: apt-get install valkey\n"}`,
		`{"Action":"skip","Package":"github.com/valkey-dr/valkey-dr/validate","Test":"TestA"}`,
		`{"Action":"output","Package":"github.com/valkey-dr/valkey-dr","Test":"TestB","Output":"    b_test.go:3: benchmark: run bench/watch.sh\n"}`,
		`{"Action":"skip","Package":"github.com/valkey-dr/valkey-dr","Test":"TestB"}`,
		`{"Action":"pass","Package":"github.com/valkey-dr/valkey-dr","Test":"TestC"}`,
		`not json`,
	}, "\n")
	skips, n, err := read(strings.NewReader(in))
	if err != nil || n != 7 || len(skips) != 2 {
		t.Fatalf("read: %v, %d events, skips %v", err, n, skips)
	}
	var b strings.Builder
	report(&b, skips, false)
	for _, want := range []string{
		"skipped tests (2), by reason:",
		"[MISSING PREREQUISITE] valkeytest: valkey-server not found; install with: apt-get install valkey\n       validate.TestA",
		"[opt-in] benchmark: run bench/watch.sh\n       ..TestB",
		"!! 1 tests did NOT run",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	report(&b, skips, true)
	if strings.Contains(b.String(), "!!") {
		t.Errorf("CI=true: no banner (the helpers fail instead):\n%s", b.String())
	}
}
