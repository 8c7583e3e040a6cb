package main

import (
	"context"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

// Issue 26, must-have 5: a probe that could not offer --rate is inconclusive (the host, not
// the cache), unless a latency or error line failed too (then degraded); allowed, healthy.
func TestProbeJudgesTheOfferedLoad(t *testing.T) {
	out := func(opsPerSec, p99 float64) *watch.Outcome {
		n := int64(opsPerSec * 10)
		return &watch.Outcome{Total: watch.Totals{Counts: watch.Counts{DurationS: 10, Ops: n, OpsPerSec: opsPerSec}, Successes: n, Latency: watch.Latency{P99Ms: p99}}}
	}
	sla := watch.SLA{P99: 10 * time.Millisecond, ErrorRate: 0.01, Rate: 50}
	allowed := sla
	allowed.AllowUnderRate = true
	for name, tc := range map[string]struct {
		out  *watch.Outcome
		sla  watch.SLA
		code int
	}{
		"full rate, fast":           {out(50, 1), sla, contract.ExitOK},
		"under rate, fast":          {out(30, 1), sla, contract.ExitInconclusive},
		"under rate, slow":          {out(30, 50), sla, contract.ExitDegraded},
		"under rate, fast, allowed": {out(30, 1), allowed, contract.ExitOK},
	} {
		t.Run(name, func(t *testing.T) {
			_, code, reason, _ := probeVerdict(context.Background(), nil, tc.out, tc.sla)
			if code != tc.code {
				t.Errorf("exit %d (%s), want %d", code, reason, tc.code)
			}
		})
	}
}
