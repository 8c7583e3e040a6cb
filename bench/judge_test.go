package bench

import (
	"fmt"
	"testing"
)

// TestJudge pins bench/watch.sh's verdict: MET only if ops/s, p50 and p99 all meet the
// targets, and a MISSED names every target missed. Cheap: it runs in plain `go test`.
func TestJudge(t *testing.T) {
	for _, c := range []struct {
		ops, p50, p99 float64
		want          string
	}{
		{1.0, 1.15, 1.15, "MET"},
		{1.2, 0.9, 0.8, "MET"},
		{0.98, 1.0, 1.0, "MISSED: ops/s 0.98x < 1.00x"},
		{1.0, 1.38, 1.0, "MISSED: p50 1.38x > 1.15x"},
		{1.0, 1.1, 5.03, "MISSED: p99 5.03x > 1.15x"},
		{0.998, 1.152, 1.0, "MISSED: ops/s 0.998x < 1.00x, p50 1.152x > 1.15x"},
		{0.98, 1.38, 1.42, "MISSED: ops/s 0.98x < 1.00x, p50 1.38x > 1.15x, p99 1.42x > 1.15x"},
	} {
		got, met := judge(c.ops, c.p50, c.p99)
		if got != c.want || met != (c.want == "MET") {
			t.Errorf("judge(%v, %v, %v) = %q, %v; want %q", c.ops, c.p50, c.p99, got, met, c.want)
		}
	}
}

// TestConclude: a verdict stands only when valkey-benchmark's own rounds agree within
// noiseLimit; otherwise it is INCONCLUSIVE and says what it would have read.
func TestConclude(t *testing.T) {
	for _, c := range []struct {
		bench []float64
		want  string
	}{
		{[]float64{30000, 33000, 36000}, "MET"},
		{[]float64{30000, 45000}, "MET"},
		{[]float64{868, 12192, 5330}, "INCONCLUSIVE: this host's speed moved during the run (valkey-benchmark's ops/s 868-12192 between rounds, 14.0x > 1.5x); rerun on a quiet machine (it would read MET)"},
		{[]float64{0, 100}, "INCONCLUSIVE: this host's speed moved during the run (valkey-benchmark's ops/s 0-100 between rounds, +Infx > 1.5x); rerun on a quiet machine (it would read MET)"},
		{[]float64{30000}, "MET (one round: the host's noise is not known; ROUNDS=3 or more)"},
	} {
		if got := conclude("MET", c.bench); got != c.want {
			t.Errorf("conclude(MET, %v) =\n %q, want\n %q", c.bench, got, c.want)
		}
	}
}

// TestConcurrentSplit: valkey-benchmark's creates, reads and refreshes run at once only on a
// share of the connections that keeps the mix's proportions and ends them together.
func TestConcurrentSplit(t *testing.T) {
	counts := []int{23040, 138240, 46080, 23040} // watch's 1:6:2:1
	for _, c := range []struct {
		conns int
		want  []int
	}{
		{64, []int{7, 43, 14}},
		{9, []int{1, 6, 2}},
		{48, []int{5, 32, 11}},
		{4, nil}, // 1:2:1 would leave the reads alone for most of the run
		{2, nil},
	} {
		got := concurrentSplit(c.conns, counts)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("concurrentSplit(%d) = %v, want %v", c.conns, got, c.want)
		}
	}
	if got := concurrentSplit(64, []int{0, 0, 0, 5}); got != nil {
		t.Errorf("no creates, reads or refreshes: %v, want nil", got)
	}
}
