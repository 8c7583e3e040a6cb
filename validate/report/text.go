package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// label is the fixed-width verdict shown on a live line.
func label(s Status) string { return strings.ToUpper(string(s)) }

// LiveLine writes one check's line: name, verdict, duration, one-line detail (and the fix).
func LiveLine(w io.Writer, r Result) {
	detail := oneLine(r.Detail)
	if r.Fix != "" && r.Status == Fail {
		detail += " — fix: " + oneLine(r.Fix)
	}
	fmt.Fprintf(w, "%-18s %-4s %9s  %s\n", r.Name, label(r.Status), fmtDur(r.Duration), detail)
}

// WriteSummary writes the closing lines of a text run.
func WriteSummary(w io.Writer, r *Report) {
	s := r.Summary
	fmt.Fprintf(w, "%s: %d checks in %s (%d pass, %d warn, %d fail, %d skip) against %s; run %s\n",
		label(r.Verdict), s.Total, fmtDur(time.Duration(r.DurationMs*float64(time.Millisecond))),
		s.Pass, s.Warn, s.Fail, s.Skip, termsafe.Escape(r.Target.Endpoint), r.RunID)
	for _, c := range r.Checks {
		if c.Status == Fail {
			fmt.Fprintf(w, "  failed %s: %s\n", c.Name, oneLine(c.Detail))
			if c.Fix != "" {
				fmt.Fprintf(w, "    fix: %s\n", oneLine(c.Fix))
			}
		}
	}
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", oneLine(wmsg))
	}
}

// oneLine joins s into one line and escapes it for the terminal (termsafe.Escape): a detail
// quotes what a server answered, and a hostile server answers escape sequences.
func oneLine(s string) string { return termsafe.Escape(strings.Join(strings.Fields(s), " ")) }

// fmtDur prints a duration with 3 significant figures: 412µs, 3.21ms, 1.20s.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}
