package watch

import (
	"strings"
	"testing"
	"time"
)

// Issue 26, must-have 5: a run judged on less load than --rate asked for says so and fails,
// unless --allow-under-rate.
func TestEvaluateJudgesTheOfferedLoad(t *testing.T) {
	totals := func(opsPerSec float64) Totals {
		n := int64(opsPerSec * 10)
		return Totals{Counts: Counts{DurationS: 10, Ops: n, OpsPerSec: opsPerSec}, Successes: n, Latency: Latency{P99Ms: 1}}
	}
	tests := map[string]struct {
		sla     SLA
		t       Totals
		ok      bool
		line    string
		noCheck bool
	}{
		"85% of --rate fails":                             {SLA{P99: 5 * time.Millisecond, Rate: 500}, totals(426.7), false, "FAIL (426.7/s, 85.3% of --rate 500", false},
		"95% of --rate passes":                            {SLA{P99: 5 * time.Millisecond, Rate: 500}, totals(475), true, "PASS (475.0/s, 95.0% of --rate 500", false},
		"85% with --allow-under-rate":                     {SLA{P99: 5 * time.Millisecond, Rate: 500, AllowUnderRate: true}, totals(426.7), true, "UNDER RATE, ALLOWED", false},
		"unpaced (--rate 0) is not judged":                {SLA{P99: 5 * time.Millisecond}, totals(426.7), true, "", true},
		"a run shorter than MinRateJudgedS is not judged": {SLA{P99: 5 * time.Millisecond, Rate: 500}, func() Totals { x := totals(426.7); x.DurationS = 2; return x }(), true, "", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, lines := tc.sla.Evaluate(tc.t)
			if ok != tc.ok {
				t.Errorf("ok = %v, want %v: %+v", ok, tc.ok, lines)
			}
			var offered *SLACheck
			for i := range lines {
				if lines[i].Name == CheckOffered {
					offered = &lines[i]
				}
			}
			if tc.noCheck {
				if offered != nil {
					t.Errorf("an offered line for an unpaced run: %s", offered.Text)
				}
				return
			}
			if offered == nil || !strings.Contains(offered.Text, tc.line) {
				t.Errorf("offered line %+v, want it to contain %q", offered, tc.line)
			}
		})
	}
}
