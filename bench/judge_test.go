package bench

import "testing"

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
