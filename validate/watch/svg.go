package watch

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// Plot geometry (pixels): a title block, the latency panel (log scale, left axis) sharing its
// area with throughput (linear, right axis), the error-rate strip with its own scale, the
// reconnect lane, the time axis and the legend.
const (
	svgW, svgH         = 960, 580
	plotL, plotR       = 80, 870
	plotT, plotB       = 96, 376
	errT, errB         = 392, 442
	laneT, laneB       = 452, 476
	minLatencyMs       = 0.001 // the log axis starts no lower than 1 µs
	seriesStrokeWidth  = 2
	maxStrokeWidth     = 1
	attemptStrokeWidth = 6
	// reasonWidth is how many characters of the reason fit on a title line; reasonLines how
	// many lines it may take (the whole reason is also in the SVG <title> and in the JSON).
	reasonWidth = 120
	reasonLines = 3
)

// Colours, one per series, shared by the lines and the legend.
const (
	colP50      = "#1f77b4"
	colP95      = "#2ca02c"
	colP99      = "#ff7f0e"
	colMax      = "#7f7f7f"
	colAttempts = "#8c564b"
	colFailed   = "#d62728"
	colOps      = "#17becf"
	colReconn   = "#9467bd"
	colDials    = "#e377c2"
	colMissed   = "#d62728"
)

type series struct {
	name, label, color string
	width              int
	dash               string
	value              func(Interval) float64
	// has says whether the interval has a value for the series (no successful command: no
	// success latency; no failure: no failed latency); the line breaks where it has none.
	has func(Interval) bool
}

func hasSuccess(iv Interval) bool { return iv.Ops-iv.Errors > 0 }
func hasFailure(iv Interval) bool { return iv.Errors > 0 }
func hasAny(iv Interval) bool     { return iv.Ops > 0 }

// latencySeries are the latency lines, drawn in this order (the last on top).
var latencySeries = []series{
	// Every attempt first, wide and pale: without failures it equals p99, which is drawn on it.
	{"attempt-p99", "p99 of every attempt", colAttempts, attemptStrokeWidth, "", func(iv Interval) float64 { return iv.Attempts.P99Ms }, hasAny},
	{"max", "max", colMax, maxStrokeWidth, "", func(iv Interval) float64 { return iv.MaxMs }, hasSuccess},
	{"p95", "p95", colP95, seriesStrokeWidth, "", func(iv Interval) float64 { return iv.P95Ms }, hasSuccess},
	{"p50", "p50", colP50, seriesStrokeWidth, "", func(iv Interval) float64 { return iv.P50Ms }, hasSuccess},
	{"p99", "p99", colP99, seriesStrokeWidth, "", func(iv Interval) float64 { return iv.P99Ms }, hasSuccess},
	{"failed-p99", "p99 of failed commands", colFailed, seriesStrokeWidth, "", func(iv Interval) float64 { return iv.Failed.P99Ms }, hasFailure},
}

// WriteSVG draws the run over time: latency per interval on a log scale (p50, p95, p99 and max
// of successful commands, with the SLA lines; the p99 of every attempt and of failed commands,
// so that a stall shows as the spike it is), throughput on its own right-hand axis, intervals
// that miss the SLA shaded, the error rate in a strip with its own scale, and reconnects and
// failed dials as counted marks. The title carries the verdict and its reason. Hand-written
// SVG 1.1, no dependencies; any browser shows it.
func WriteSVG(w io.Writer, ev *Evidence) error {
	var ivs []Interval
	if ev.Outcome != nil {
		ivs = ev.Intervals
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">
`, svgW, svgH, svgW, svgH)
	what := strings.TrimSpace("valkey-dr " + ev.Kind + " " + ev.Target.Endpoint)
	head := fmt.Sprintf("%s: %s", what, strings.ToUpper(ev.Verdict))
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(head+": "+ev.Reason+" (run "+ev.RunID+")"))
	b.WriteString("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n")
	verdictColor := "#2ca02c"
	if ev.Verdict != "pass" && ev.Verdict != "healthy" {
		verdictColor = colFailed
	}
	// The reason is why anyone opens the plot: it goes under the verdict, wrapped, not cut.
	fmt.Fprintf(&b, "<text class=\"title\" x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">%s <tspan fill=\"%s\">%s</tspan>",
		plotL, esc(what+":"), verdictColor, esc(strings.ToUpper(ev.Verdict)))
	for _, line := range wrap(ev.Reason, reasonWidth, reasonLines) {
		fmt.Fprintf(&b, "<tspan class=\"reason\" x=\"%d\" dy=\"17\" font-size=\"13\" font-weight=\"normal\">%s</tspan>", plotL, esc(line))
	}
	b.WriteString("</text>\n")
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#555\">%s</text>\n", plotL, plotT-10,
		esc(fmt.Sprintf("run %s, started %s UTC; one point per %s interval", ev.RunID, ev.StartedAt.UTC().Format("2006-01-02 15:04:05"), intervalText(ivs))))

	// X axis: seconds since traffic started; interval i spans [ElapsedS-DurationS, ElapsedS].
	maxX := 1.0
	for _, iv := range ivs {
		maxX = math.Max(maxX, iv.ElapsedS)
	}
	x := func(s float64) float64 { return plotL + (plotR-plotL)*s/maxX }
	x0 := func(iv Interval) float64 { return x(math.Max(0, iv.ElapsedS-iv.DurationS)) }

	// Shading first, under everything: the intervals that alone miss an SLA line.
	missed := 0
	for _, iv := range ivs {
		m := iv.SLAMissed
		if m == nil {
			m = Missed(iv, ev.SLA)
		}
		if len(m) == 0 {
			continue
		}
		missed++
		fmt.Fprintf(&b, "<rect class=\"sla-missed\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.12\"><title>%s</title></rect>\n",
			x0(iv), plotT, math.Max(1, x(iv.ElapsedS)-x0(iv)), errB-plotT, colMissed,
			esc(fmt.Sprintf("%.1fs-%.1fs: SLA missed (%s)", iv.ElapsedS-iv.DurationS, iv.ElapsedS, strings.Join(m, ", "))))
	}

	// The drain: the last interval runs on after the deadline until the in-flight commands
	// land, while no new command starts, so its ops/s reads lower than the rate sent. Without
	// this mark a healthy run seemed to end in a throughput drop.
	if n := len(ivs); n > 0 && ev.Config.Duration > 0 {
		if end, stop := ivs[n-1].ElapsedS, seconds(ev.Config.Duration); end > stop+1e-3 {
			fmt.Fprintf(&b, "<rect class=\"drain\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#000\" fill-opacity=\"0.06\"><title>%s</title></rect>\n",
				x(stop), plotT, math.Max(1, x(end)-x(stop)), errB-plotT,
				esc(fmt.Sprintf("traffic stopped at %ss; until %.2fs the run waited for in-flight commands (no new command), so the last interval's ops/s is lower than the rate sent", trimFloat(stop), end)))
			fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%d\" fill=\"#777\" font-size=\"10\" text-anchor=\"end\">drain</text>\n", x(end)-2, plotB-4)
		}
	}

	// Left Y axis: latency decades covering the data and the SLA lines.
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
		note(iv.Attempts.P99Ms)
		note(iv.Failed.P99Ms)
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
	fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", plotL, plotT, plotR-plotL, plotB-plotT)
	for d := dLo; d <= dHi; d++ {
		yy := y(math.Pow(10, d))
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", plotL, yy, plotR, yy)
		fmt.Fprintf(&b, "<text class=\"axis-latency\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", plotL-6, yy+4, esc(decade(d)))
	}
	mid := (plotT + plotB) / 2
	fmt.Fprintf(&b, "<text class=\"axis-label\" x=\"18\" y=\"%d\" transform=\"rotate(-90 18 %d)\" text-anchor=\"middle\">latency (ms, log scale)</text>\n", mid, mid)

	// Right Y axis: throughput, linear from 0, so a drop reads as a drop.
	maxOps := 0.0
	for _, iv := range ivs {
		maxOps = math.Max(maxOps, iv.OpsPerSec)
	}
	// 5% headroom: a steady rate at the top would hide in the panel's frame.
	opsTop, opsStep := niceTop(maxOps*1.05, 5)
	yOps := func(v float64) float64 { return plotB - (plotB-plotT)*v/opsTop }
	for v := 0.0; v <= opsTop+opsStep/2; v += opsStep {
		yy := yOps(v)
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n", plotR, yy, plotR+4, yy, colOps)
		fmt.Fprintf(&b, "<text class=\"axis-ops\" x=\"%d\" y=\"%.1f\" fill=\"%s\">%s</text>\n", plotR+7, yy+4, colOps, esc(trimFloat(v)))
	}
	rx := svgW - 16
	fmt.Fprintf(&b, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" transform=\"rotate(90 %d %d)\" text-anchor=\"middle\" fill=\"%s\">throughput (ops/s)</text>\n", rx, mid, rx, mid, colOps)
	if len(ivs) > 0 {
		// A step per interval: the rate held over the whole interval, not at a point.
		var d strings.Builder
		fmt.Fprintf(&d, "M%.1f %.1f", x0(ivs[0]), yOps(0))
		for _, iv := range ivs {
			fmt.Fprintf(&d, " L%.1f %.1f H%.1f", x0(iv), yOps(iv.OpsPerSec), x(iv.ElapsedS))
		}
		fmt.Fprintf(&d, " V%.1f Z", yOps(0))
		// A faint fill: a full panel of colour in a healthy run drowned the latency lines.
		fmt.Fprintf(&b, "<path class=\"series\" data-series=\"ops\" d=\"%s\" fill=\"%s\" fill-opacity=\"0.04\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
			d.String(), colOps, colOps)
	}

	// X grid and labels (under the reconnect lane, for every panel).
	step := niceStep(maxX)
	for s := 0.0; s <= maxX+1e-9; s += step {
		xx := x(s)
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", xx, plotT, xx, laneB)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", xx, laneB+16, esc(trimFloat(s)+"s"))
	}
	fmt.Fprintf(&b, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds since traffic started</text>\n", (plotL+plotR)/2, laneB+34)

	// SLA lines.
	for _, c := range ev.SLA {
		if c.Unit != "ms" || c.Limit <= 0 {
			continue
		}
		yy := y(c.Limit)
		fmt.Fprintf(&b, "<line class=\"sla\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"6 4\"/>\n", plotL, yy, plotR, yy, colFailed)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\">%s</text>\n", plotR-4, yy-4, colFailed, esc("SLA "+c.Name+" "+fmtMs(c.Limit)))
	}

	// The op timeout, where timed-out commands land: it explains a plateau of failed latency.
	if ev.Outcome != nil && ev.Config.OpTimeout > 0 {
		if t := ms(ev.Config.OpTimeout); t <= math.Pow(10, dHi) && t >= math.Pow(10, dLo) {
			yy := y(t)
			fmt.Fprintf(&b, "<line class=\"op-timeout\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"1 3\"/>\n", plotL, yy, plotR, yy)
			fmt.Fprintf(&b, "<text x=\"%d\" y=\"%.1f\" fill=\"#555\" font-size=\"10\">%s</text>\n", plotL+4, yy-3, esc("op timeout "+fmtMs(t)))
		}
	}

	// Latency series: a point at the middle of its interval (where the shading and the
	// throughput step are), a path broken where an interval has no value, and a dot where a
	// point has no neighbour: a value of one interval alone (the first seconds before a stall)
	// would otherwise draw nothing.
	for _, s := range latencySeries {
		var d, dots strings.Builder
		has := func(i int) bool { return i >= 0 && i < len(ivs) && s.has(ivs[i]) && s.value(ivs[i]) > 0 }
		for i, iv := range ivs {
			if !has(i) {
				continue
			}
			cmd := "L"
			if !has(i - 1) {
				cmd = "M"
			}
			xm, ym := (x0(iv)+x(iv.ElapsedS))/2, y(s.value(iv))
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, xm, ym)
			if !has(i-1) && !has(i+1) {
				fmt.Fprintf(&dots, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\"/>", xm, ym, max(2, s.width/2+1))
			}
		}
		if d.Len() == 0 {
			continue
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(" stroke-dasharray=\"%s\"", s.dash)
		}
		opacity := ""
		if s.width == attemptStrokeWidth {
			opacity = " stroke-opacity=\"0.35\""
		}
		fmt.Fprintf(&b, "<path class=\"series\" data-series=\"%s\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%d\" stroke-linejoin=\"round\"%s%s/>\n",
			s.name, strings.TrimSpace(d.String()), s.color, s.width, dash, opacity)
		if dots.Len() > 0 {
			fmt.Fprintf(&b, "<g fill=\"%s\">%s</g>\n", s.color, dots.String())
		}
	}

	// Error strip: the error rate per interval against a scale chosen from the data and the
	// SLA limit (a 0.1% rate on a 0..100% strip is invisible), labelled at 0, half and top.
	errLimit := -1.0
	for _, c := range ev.SLA {
		if c.Name == "error-rate" {
			errLimit = c.Limit
		}
	}
	maxRate := math.Max(errLimit, 0)
	for _, iv := range ivs {
		maxRate = math.Max(maxRate, iv.ErrorRate)
	}
	rateTop := niceRate(maxRate)
	yErr := func(r float64) float64 { return errB - (errB-errT)*math.Min(r, rateTop)/rateTop }
	fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", plotL, errT, plotR-plotL, errB-errT)
	for _, r := range []float64{0, rateTop / 2, rateTop} {
		yy := yErr(r)
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#999\"/>\n", plotL-4, yy, plotL, yy)
		fmt.Fprintf(&b, "<text class=\"axis-errors\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">%s</text>\n", plotL-6, yy+3, esc(pctShort(r)))
	}
	fmt.Fprintf(&b, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" fill=\"%s\">error rate</text>\n", plotR+7, (errT+errB)/2+4, colFailed)
	if errLimit > 0 && errLimit <= rateTop {
		yy := yErr(errLimit)
		fmt.Fprintf(&b, "<line class=\"sla\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"6 4\"/>\n", plotL, yy, plotR, yy, colFailed)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\" font-size=\"10\">%s</text>\n", plotR-4, yy-3, colFailed, esc("SLA error-rate "+pct(errLimit)))
	}
	for _, iv := range ivs {
		if iv.Errors == 0 {
			continue
		}
		h := math.Max(1, errB-yErr(iv.ErrorRate))
		fmt.Fprintf(&b, "<rect class=\"errors\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s</title></rect>\n",
			x0(iv), errB-h, math.Max(1, x(iv.ElapsedS)-x0(iv)-1), h, colFailed,
			esc(fmt.Sprintf("%d errors of %d (%s)%s", iv.Errors, iv.Ops, pct(iv.ErrorRate), classesText(iv.ErrorClasses))))
	}

	// Reconnect lane: a tick with its count where the client connected again (and failed
	// dials beside it), so three reconnects read as three, not as one dot.
	fmt.Fprintf(&b, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" fill=\"%s\">reconnects</text>\n", plotR+7, (laneT+laneB)/2+4, colReconn)
	fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ccc\"/>\n", plotL, laneB, plotR, laneB)
	var reconnects, dialFailures int64
	for _, iv := range ivs {
		reconnects += iv.Reconnects
		dialFailures += iv.DialFailures
	}
	if len(ivs) > 0 && reconnects == 0 && dialFailures == 0 {
		// An empty lane could be a drawing bug; saying "none" makes it a measurement.
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#999\" font-size=\"11\">no reconnect, no failed dial</text>\n", plotL+6, laneB-7)
	}
	for _, iv := range ivs {
		xm := (x0(iv) + x(iv.ElapsedS)) / 2
		if iv.Reconnects > 0 {
			fmt.Fprintf(&b, "<g class=\"reconnects\" data-count=\"%d\"><title>%d reconnect(s) in %.1fs-%.1fs</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/><text x=\"%.1f\" y=\"%d\" fill=\"%s\" font-size=\"12\" font-weight=\"bold\">%d</text></g>\n",
				iv.Reconnects, iv.Reconnects, iv.ElapsedS-iv.DurationS, iv.ElapsedS, xm, laneT, xm, laneB, colReconn, xm+4, laneT+15, colReconn, iv.Reconnects)
		}
		if iv.DialFailures > 0 {
			fmt.Fprintf(&b, "<g class=\"dial-failures\" data-count=\"%d\"><title>%d failed dial(s)</title><text x=\"%.1f\" y=\"%d\" fill=\"%s\" font-size=\"11\" text-anchor=\"end\">✗%d</text></g>\n",
				iv.DialFailures, iv.DialFailures, xm-3, laneB-2, colDials, iv.DialFailures)
		}
	}

	// Legend, under the axis label so it never hides data.
	type entry struct{ label, color, dash, kind string }
	entries := []entry{{"p50", colP50, "", "line"}, {"p95", colP95, "", "line"}, {"p99", colP99, "", "line"}, {"max (successful commands)", colMax, "", "line"},
		{"p99 of every attempt (incl. failed)", colAttempts, "", "wide"}, {"p99 of failed commands", colFailed, "", "line"},
		{"throughput (right axis)", colOps, "", "area"}, {fmt.Sprintf("SLA missed (%d intervals)", missed), colMissed, "", "area"}}
	lx, ly := plotL, laneB+56
	for _, e := range entries {
		// About 7 px a character at 12 px sans-serif, plus the swatch and a gap.
		wdt := 44 + 7*float64(len(e.label))
		if float64(lx)+wdt > plotR+60 {
			lx, ly = plotL, ly+18
		}
		if e.kind == "area" {
			op := "0.25"
			fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"20\" height=\"10\" fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\"/>", lx, ly-9, e.color, op, e.color)
		} else if e.kind == "wide" {
			fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%d\" stroke-opacity=\"0.35\"/>", lx, ly-4, lx+20, ly-4, e.color, attemptStrokeWidth)
		} else {
			dash := ""
			if e.dash != "" {
				dash = fmt.Sprintf(" stroke-dasharray=\"%s\"", e.dash)
			}
			fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>", lx, ly-4, lx+20, ly-4, e.color, dash)
		}
		fmt.Fprintf(&b, "<text class=\"legend\" x=\"%d\" y=\"%d\">%s</text>\n", lx+25, ly, esc(e.label))
		lx += int(wdt)
	}

	if len(ivs) == 0 {
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no traffic was sent: %s</text>\n", (plotL+plotR)/2, mid, esc(ev.Reason))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return html.EscapeString(s) }

// wrap breaks s at spaces into at most n lines of about width characters; a remainder that
// does not fit ends the last line with an ellipsis.
func wrap(s string, width, n int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > n {
		lines = append(lines[:n-1:n-1], strings.Join(lines[n-1:], " "))
		if last := lines[n-1]; len(last) > width {
			lines[n-1] = last[:width-1] + "…"
		}
	}
	return lines
}

// intervalText is the interval length of the run, for the subtitle.
func intervalText(ivs []Interval) string {
	if len(ivs) == 0 {
		return "-"
	}
	return trimFloat(ivs[0].DurationS) + "s"
}

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

// pctShort prints a fraction as a percentage without trailing zeros (0.005 -> "0.5%").
func pctShort(f float64) string {
	return strconv.FormatFloat(f*100, 'g', 3, 64) + "%"
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

// niceTop returns an axis top at or above v and its tick step (1, 2 or 5 times a power of ten,
// about ticks steps); an empty axis gets 0..10.
func niceTop(v float64, ticks int) (top, step float64) {
	if v <= 0 {
		return 10, 2
	}
	raw := v / float64(ticks)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * p
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	return math.Ceil(v/step-1e-9) * step, step
}

// niceRate is the top of the error-rate scale: 1, 2 or 5 times a power of ten at or above r,
// between 0.1% and 100%.
func niceRate(r float64) float64 {
	if r <= 0.001 {
		return 0.001
	}
	if r >= 0.5 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(r)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= r-1e-12 {
			return m * p
		}
	}
	return 1
}
