package watch

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Plot geometry (pixels).
const (
	svgW, svgH          = 960, 520
	plotL, plotR        = 80, 940
	plotT, plotB        = 60, 380
	stripT, stripB      = 400, 440
	minLatencyMs        = 0.001 // the log axis starts no lower than 1 µs
	seriesStrokeWidth   = 2
	maxSeriesStrokeWith = 1
)

type series struct {
	name, color string
	width       int
	value       func(Interval) float64
}

// WriteSVG draws latency over time: p50, p95, p99 and max of successful commands per interval
// on a log scale with the SLA lines, and below it the error rate per interval (red bars) and
// reconnects (purple marks). Hand-written SVG 1.1, no dependencies; any browser shows it.
func WriteSVG(w io.Writer, ev *Evidence) error {
	var ivs []Interval
	if ev.Outcome != nil {
		ivs = ev.Intervals
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">
<rect width="100%%" height="100%%" fill="white"/>
`, svgW, svgH, svgW, svgH)
	title := fmt.Sprintf("valkey-dr %s %s: %s (run %s)", ev.Kind, ev.Target.Endpoint, strings.ToUpper(ev.Verdict), ev.RunID)
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">%s</text>\n", plotL, esc(title))
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"44\" fill=\"#555\">%s</text>\n", plotL,
		esc(fmt.Sprintf("latency of successful commands per interval (ms, log scale); started %s UTC", ev.StartedAt.UTC().Format("2006-01-02 15:04:05"))))

	// X axis: seconds since traffic started.
	maxX := 1.0
	for _, iv := range ivs {
		maxX = math.Max(maxX, iv.ElapsedS)
	}
	x := func(s float64) float64 { return plotL + (plotR-plotL)*s/maxX }

	// Y axis: decades covering the data and the SLA lines.
	lo, hi := math.Inf(1), math.Inf(-1)
	note := func(v float64) {
		if v > 0 {
			v = math.Max(v, minLatencyMs)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	for _, iv := range ivs {
		note(iv.P50Ms)
		note(iv.MaxMs)
	}
	for _, c := range ev.SLA {
		if c.Unit == "ms" {
			note(c.Limit)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0.1, 10
	}
	dLo, dHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dHi <= dLo {
		dHi = dLo + 1
	}
	y := func(v float64) float64 {
		v = math.Max(v, math.Pow(10, dLo))
		return plotB - (plotB-plotT)*(math.Log10(v)-dLo)/(dHi-dLo)
	}

	// Grid and labels.
	fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", plotL, plotT, plotR-plotL, plotB-plotT)
	for d := dLo; d <= dHi; d++ {
		yy := y(math.Pow(10, d))
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", plotL, yy, plotR, yy)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", plotL-6, yy+4, esc(decade(d)))
	}
	fmt.Fprintf(&b, "<text x=\"18\" y=\"%d\" transform=\"rotate(-90 18 %d)\" text-anchor=\"middle\">latency (ms)</text>\n", (plotT+plotB)/2, (plotT+plotB)/2)
	step := niceStep(maxX)
	for s := 0.0; s <= maxX+1e-9; s += step {
		xx := x(s)
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", xx, plotT, xx, plotB)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", xx, stripB+16, esc(trimFloat(s)+"s"))
	}
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds since traffic started</text>\n", (plotL+plotR)/2, stripB+34)

	// SLA lines.
	for _, c := range ev.SLA {
		if c.Unit != "ms" || c.Limit <= 0 {
			continue
		}
		yy := y(c.Limit)
		fmt.Fprintf(&b, "<line class=\"sla\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\n", plotL, yy, plotR, yy)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#d62728\">%s</text>\n", plotR-4, yy-4, esc("SLA "+c.Name+" "+fmtMs(c.Limit)))
	}

	// Series: a path broken where an interval had no successful command.
	all := []series{
		{"max", "#7f7f7f", maxSeriesStrokeWith, func(iv Interval) float64 { return iv.MaxMs }},
		{"p99", "#ff7f0e", seriesStrokeWidth, func(iv Interval) float64 { return iv.P99Ms }},
		{"p95", "#2ca02c", seriesStrokeWidth, func(iv Interval) float64 { return iv.P95Ms }},
		{"p50", "#1f77b4", seriesStrokeWidth, func(iv Interval) float64 { return iv.P50Ms }},
	}
	for _, s := range all {
		var d strings.Builder
		pen := false
		for _, iv := range ivs {
			v := s.value(iv)
			if iv.Ops-iv.Errors <= 0 || v <= 0 {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, x(iv.ElapsedS), y(v))
			pen = true
		}
		if d.Len() > 0 {
			fmt.Fprintf(&b, "<path class=\"series\" data-series=\"%s\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%d\"/>\n",
				s.name, strings.TrimSpace(d.String()), s.color, s.width)
		}
	}
	// Legend.
	for i, s := range []series{all[3], all[2], all[1], all[0]} {
		lx := plotL + 10 + i*80
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
			lx, plotT+14, lx+20, plotT+14, s.color, lx+25, plotT+18, s.name)
	}

	// Error strip: 0..100% error rate per interval; reconnects as purple marks.
	fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#999\"/>\n", plotL, stripT, plotR-plotL, stripB-stripT)
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#d62728\">errors</text>\n", plotL-6, stripT+14)
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#9467bd\">reconnects</text>\n", plotL-6, stripT+30)
	prev := 0.0
	for _, iv := range ivs {
		x0, x1 := x(prev), x(iv.ElapsedS)
		prev = iv.ElapsedS
		if iv.Errors > 0 {
			h := math.Max(1, (stripB-stripT)*iv.ErrorRate)
			fmt.Fprintf(&b, "<rect class=\"errors\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#d62728\"><title>%s</title></rect>\n",
				x0, stripB-h, math.Max(1, x1-x0-1), h, esc(fmt.Sprintf("%d errors of %d (%s)", iv.Errors, iv.Ops, pct(iv.ErrorRate))))
		}
		if iv.Reconnects > 0 {
			fmt.Fprintf(&b, "<circle class=\"reconnects\" cx=\"%.1f\" cy=\"%d\" r=\"4\" fill=\"#9467bd\"><title>%d reconnect(s)</title></circle>\n",
				x1, stripT+6, iv.Reconnects)
		}
	}
	if len(ivs) == 0 {
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no traffic was sent: %s</text>\n", (plotL+plotR)/2, (plotT+plotB)/2, esc(ev.Reason))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return html.EscapeString(s) }

func decade(d float64) string {
	v := math.Pow(10, d)
	if v >= 1 {
		return fmt.Sprintf("%.0f", v)
	}
	return trimFloat(v)
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// niceStep is 1, 2 or 5 times a power of ten giving at most ~10 ticks over span.
func niceStep(span float64) float64 {
	raw := span / 10
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}
