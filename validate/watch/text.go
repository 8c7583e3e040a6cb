package watch

import (
	"fmt"
	"strings"
)

func latText(l Latency, successes int64) string {
	if successes == 0 {
		return "p50 -         p95 -         p99 -         max -        "
	}
	return fmt.Sprintf("p50 %-9s p95 %-9s p99 %-9s max %-9s", fmtMs(l.P50Ms), fmtMs(l.P95Ms), fmtMs(l.P99Ms), fmtMs(l.MaxMs))
}

// Line is the interval's line on the terminal.
func (iv Interval) Line() string {
	s := fmt.Sprintf("%7.1fs %8.0f ops/s  %s errors %d (%s)  reconnects %d", iv.ElapsedS, iv.OpsPerSec,
		latText(iv.Latency, iv.Ops-iv.Errors), iv.Errors, pct(iv.ErrorRate), iv.Reconnects)
	if iv.DialFailures > 0 {
		s += fmt.Sprintf("  failed dials %d", iv.DialFailures)
	}
	return s + classesText(iv.ErrorClasses)
}

// Lines describe the totals: one summary line and one line per operation. targetRate 0 means
// the run was not paced.
func (t Totals) Lines(targetRate int) []string {
	target := "unpaced"
	if targetRate > 0 {
		target = fmt.Sprintf("target %d/s", targetRate)
	}
	out := []string{
		fmt.Sprintf("total: %d commands in %.2fs (%.1f/s, %s); %d errors (%s); %d reconnects, %d failed dials",
			t.Ops, t.DurationS, t.OpsPerSec, target, t.Errors, pct(t.ErrorRate), t.Reconnects, t.DialFailures),
		"  all      " + strings.TrimSpace(latText(t.Latency, t.Successes)),
	}
	for _, op := range OpNames {
		o := t.ByOp[op]
		out = append(out, fmt.Sprintf("  %-8s %s  %d commands, %d errors", op, latText(o.Latency, o.Ops-o.Errors), o.Ops, o.Errors))
	}
	return out
}
