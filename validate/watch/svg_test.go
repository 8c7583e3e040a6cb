package watch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svgNode is any SVG element, parsed generically so the tests read the plot's structure, not
// its bytes.
type svgNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []svgNode  `xml:",any"`
}

func (n *svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns the elements under n (n included) for which keep is true, in document order.
func (n *svgNode) all(keep func(*svgNode) bool) []*svgNode {
	var out []*svgNode
	if keep(n) {
		out = append(out, n)
	}
	for i := range n.Nodes {
		out = append(out, n.Nodes[i].all(keep)...)
	}
	return out
}

func byClass(class string) func(*svgNode) bool {
	return func(n *svgNode) bool { return n.attr("class") == class }
}

// text is the character data of n and its descendants, joined by spaces.
func (n *svgNode) text() string {
	parts := []string{strings.TrimSpace(n.Text)}
	for i := range n.Nodes {
		parts = append(parts, n.Nodes[i].text())
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

func parseSVG(t *testing.T, ev *Evidence) (*svgNode, string) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSVG(&b, ev); err != nil {
		t.Fatal(err)
	}
	var root svgNode
	if err := xml.Unmarshal(b.Bytes(), &root); err != nil {
		t.Fatalf("svg is not well-formed: %v\n%s", err, b.String())
	}
	return &root, b.String()
}

// stallEvidence is a run where intervals 3..5 stalled: commands timed out at 500 ms, throughput
// fell, and the client reconnected twice when the node came back.
func stallEvidence() *Evidence {
	ev := sampleEvidence()
	ev.Reason = "the SLA did not hold: error-rate 37.500% > 0.100%"
	ev.Intervals = nil
	ev.Config.OpTimeout = 500 * time.Millisecond
	ev.Config.Duration = 7600 * time.Millisecond
	start := ev.StartedAt
	for i := range 8 {
		iv := Interval{Index: i, Start: start.Add(time.Duration(i) * time.Second), ElapsedS: float64(i + 1),
			Counts: Counts{DurationS: 1, Ops: 400}, ByOp: map[string]int64{"read": 400},
			Latency: Latency{P50Ms: 0.2, P95Ms: 0.4, P99Ms: 0.8, MaxMs: 3}}
		iv.Attempts = iv.Latency
		if i >= 3 && i <= 5 {
			iv.Ops, iv.Errors, iv.ErrorClasses = 8, 8, map[string]int64{"timeout": 8}
			iv.Latency = Latency{}
			iv.Failed = Latency{P50Ms: 480, P95Ms: 499, P99Ms: 500, MaxMs: 500}
			iv.Attempts = iv.Failed
		}
		if i == 6 {
			iv.Reconnects, iv.DialFailures = 2, 1
		}
		iv.finish()
		ev.Intervals = append(ev.Intervals, iv)
	}
	ev.SLA = []SLACheck{{Name: "p99", Limit: 10, Unit: "ms"}, {Name: "error-rate", Limit: 0.001, Unit: "fraction"}}
	return ev
}

func TestSVGShowsEverySeriesAxisAndTheReason(t *testing.T) {
	ev := stallEvidence()
	ev.MarkSLAMissed()
	root, raw := parseSVG(t, ev)

	var series []string
	for _, n := range root.all(byClass("series")) {
		series = append(series, n.attr("data-series"))
	}
	for _, want := range []string{"ops", "attempt-p99", "max", "p95", "p50", "p99", "failed-p99"} {
		if !slices.Contains(series, want) {
			t.Errorf("series %q missing (have %v)", want, series)
		}
	}
	var labels []string
	for _, n := range root.all(byClass("axis-label")) {
		labels = append(labels, n.text())
	}
	for _, want := range []string{"latency (ms, log scale)", "throughput (ops/s)", "error rate", "reconnects", "seconds since traffic started"} {
		if !slices.Contains(labels, want) {
			t.Errorf("axis label %q missing (have %v)", want, labels)
		}
	}
	// Every axis has a scale: decades on the left, ops/s on the right, percentages on the strip.
	scale := func(class string) []string {
		var out []string
		for _, n := range root.all(byClass(class)) {
			out = append(out, n.text())
		}
		return out
	}
	if got := scale("axis-errors"); strings.Join(got, ",") != "0%,50%,100%" {
		t.Errorf("error-rate scale %v, want 0%%,50%%,100%% for 100%% errors", got)
	}
	// From 0 (a drop reads as a drop) to just above the highest rate (400 ops/s).
	if got := scale("axis-ops"); len(got) < 3 || got[0] != "0" || got[len(got)-1] != "500" {
		t.Errorf("throughput scale %v, want 0..500", got)
	}
	if got := scale("axis-latency"); !slices.Contains(got, "1000") || !slices.Contains(got, "0.1") {
		t.Errorf("latency scale %v, want decades covering 0.2ms..500ms", got)
	}

	// Shading: one rectangle per interval that missed the SLA, here the three stalled ones
	// (no successful command, every command failed).
	shaded := root.all(byClass("sla-missed"))
	missed := 0
	for _, iv := range ev.Intervals {
		if len(iv.SLAMissed) > 0 {
			missed++
		}
	}
	if missed != 3 || len(shaded) != missed {
		t.Errorf("%d shaded intervals, %d intervals missed the SLA, want 3", len(shaded), missed)
	}
	if !strings.Contains(shaded[0].text(), "p99, error-rate") {
		t.Errorf("shading does not say which lines were missed: %q", shaded[0].text())
	}

	// Reconnects are counted marks: their counts add up to the run's.
	var counted int64
	for _, n := range root.all(byClass("reconnects")) {
		c, err := strconv.ParseInt(n.attr("data-count"), 10, 64)
		if err != nil || !strings.Contains(n.text(), n.attr("data-count")) {
			t.Errorf("reconnect mark without its count: %q", n.text())
		}
		counted += c
	}
	if counted != 2 || len(root.all(byClass("dial-failures"))) != 1 {
		t.Errorf("reconnect marks count %d, want 2 (and one failed-dial mark)", counted)
	}

	// The title carries the verdict and the reason, not only FAIL.
	titles := root.all(byClass("title"))
	if len(titles) != 1 || !strings.Contains(titles[0].text(), "FAIL") || !strings.Contains(titles[0].text(), ev.Reason) {
		t.Errorf("title %q lacks the verdict or the reason %q", titles[0].text(), ev.Reason)
	}
	if !strings.Contains(raw, "op timeout 500ms") {
		t.Error("no op-timeout line where the timeouts sit")
	}
	// The last interval ends 0.4 s after the 7.6 s deadline: the drain is marked.
	if n := len(root.all(byClass("drain"))); n != 1 {
		t.Errorf("%d drain marks, want 1", n)
	}
}

func TestSVGTitleWrapsALongReason(t *testing.T) {
	ev := stallEvidence()
	ev.Reason = "the SLA did not hold: " + strings.Repeat("p99 123.456ms > 10.000ms; ", 20)
	root, _ := parseSVG(t, ev)
	lines := root.all(byClass("reason"))
	if len(lines) != reasonLines {
		t.Fatalf("%d reason lines, want %d", len(lines), reasonLines)
	}
	for _, l := range lines {
		if n := len([]rune(l.text())); n > reasonWidth {
			t.Errorf("reason line of %d characters: %q", n, l.text())
		}
	}
	// The whole reason is still in the SVG's accessible title.
	for _, n := range root.Nodes {
		if n.XMLName.Local == "title" && !strings.Contains(n.Text, strings.TrimSpace(ev.Reason)) {
			t.Errorf("<title> lacks the whole reason")
		}
	}
}

func TestMissed(t *testing.T) {
	lines := []SLACheck{{Name: "p99", Limit: 10, Unit: "ms"}, {Name: "max", Limit: 0, Unit: "ms"}, {Name: "error-rate", Limit: 0.01, Unit: "fraction"}}
	iv := func(ops, errs int64, p99, maxMs float64) Interval {
		v := Interval{Counts: Counts{Ops: ops, Errors: errs}, Latency: Latency{P99Ms: p99, MaxMs: maxMs}}
		v.finish()
		return v
	}
	for name, tc := range map[string]struct {
		iv   Interval
		want []string
	}{
		"within every line":                   {iv(100, 1, 9, 900), nil},
		"p99 above its limit":                 {iv(100, 0, 11, 12), []string{"p99"}},
		"errors above the rate":               {iv(100, 2, 1, 2), []string{"error-rate"}},
		"every command failed":                {iv(10, 10, 0, 0), []string{"p99", "error-rate"}},
		"nothing completed (a long stall)":    {iv(0, 0, 0, 0), []string{"ops"}},
		"a limit of 0 is not checked (max 0)": {iv(100, 0, 1, 1e6), nil},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Missed(tc.iv, lines); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("missed %v, want %v", got, tc.want)
			}
		})
	}
	if got := Missed(iv(0, 0, 0, 0), nil); got != nil {
		t.Errorf("without SLA lines nothing is missed: %v", got)
	}
}

// The new fields are additive: the old JSON keys and CSV columns stay where they were.
func TestEvidenceKeepsOldFieldsAndAddsNewOnes(t *testing.T) {
	ev := stallEvidence()
	var j bytes.Buffer
	if err := WriteJSON(&j, ev); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Intervals []map[string]any `json:"intervals"`
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	stall := doc.Intervals[3]
	for _, k := range []string{"p99Ms", "errors", "errorRate", "opsPerSec", "reconnects", "failedLatency", "attemptLatency", "slaMissed"} {
		if _, ok := stall[k]; !ok {
			t.Errorf("interval JSON lacks %q", k)
		}
	}
	if f := stall["failedLatency"].(map[string]any); f["p99Ms"] != 500.0 {
		t.Errorf("failedLatency %v", f)
	}
	var c bytes.Buffer
	if err := WriteCSV(&c, ev.Intervals); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0][:19], []string{"interval", "start_utc", "elapsed_s", "duration_s", "ops", "ops_per_s", "errors", "error_rate",
		"reconnects", "dial_failures", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "create", "read", "refresh", "delete"}) {
		t.Errorf("old CSV columns moved: %v", rows[0])
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	if r := rows[4]; r[col("failed_p99_ms")] != "500.000" || r[col("attempt_p99_ms")] != "500.000" || r[col("sla_missed")] != "p99;error-rate" {
		t.Errorf("stalled row %v", r)
	}
	if r := rows[1]; r[col("failed_p99_ms")] != "0.000" || r[col("sla_missed")] != "" {
		t.Errorf("healthy row %v", r)
	}
	if *updatePlots {
		// The synthetic stall, to look at the marks a short real run may not produce
		// (reconnects, failed dials).
		var s bytes.Buffer
		if err := WriteSVG(&s, ev); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "plots", "synthetic.svg"), s.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
