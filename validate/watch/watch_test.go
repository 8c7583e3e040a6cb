package watch

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantilesAreWithinOnePercent(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	rng := rand.New(rand.NewPCG(1, 2))
	for name, gen := range map[string]func() time.Duration{
		"log-normal around 200µs": func() time.Duration { return time.Duration(200e3 * math.Exp(rng.NormFloat64()*0.8)) },
		"uniform 1µs..50ms":       func() time.Duration { return time.Microsecond + time.Duration(rng.Int64N(int64(50*time.Millisecond))) },
		"bimodal with timeouts":   func() time.Duration { return []time.Duration{150 * time.Microsecond, time.Second}[rng.IntN(50)/49] },
	} {
		t.Run(name, func(t *testing.T) {
			var h Hist
			vals := make([]time.Duration, 20000)
			for i := range vals {
				vals[i] = gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.5, 0.95, 0.99, 0.999, 1} {
				exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
				got := h.Quantile(q)
				if d := math.Abs(float64(got-exact)) / float64(exact); d > 0.01 {
					t.Errorf("q%.3f = %v, exact %v: off by %.2f%%", q, got, exact, d*100)
				}
			}
			if h.Max() != vals[len(vals)-1] || h.Count() != uint64(len(vals)) {
				t.Errorf("max %v count %d, want %v %d", h.Max(), h.Count(), vals[len(vals)-1], len(vals))
			}
		})
	}
	t.Run("merge equals recording everything in one", func(t *testing.T) {
		var a, b, all Hist
		for i := range 1000 {
			d := time.Duration(i) * 7 * time.Microsecond
			all.Record(d)
			if i%2 == 0 {
				a.Record(d)
			} else {
				b.Record(d)
			}
		}
		a.Merge(&b)
		if a != all {
			t.Error("merged histogram differs")
		}
		var empty Hist
		if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
			t.Error("an empty histogram reports values")
		}
	})
}

func TestBucketsCoverTheRangeWithoutGaps(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	prevLo, prevW := bounds(0)
	for i := 1; i < numBuckets; i++ {
		lo, w := bounds(i)
		if lo != prevLo+prevW {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, prevLo+prevW)
		}
		if bucket(lo) != i || bucket(lo+w-1) != i {
			t.Fatalf("bucket(%d)=%d, bucket(%d)=%d, want %d", lo, bucket(lo), lo+w-1, bucket(lo+w-1), i)
		}
		prevLo, prevW = lo, w
	}
	if bucket(math.MaxUint64) != numBuckets-1 {
		t.Error("huge values do not clamp to the last bucket")
	}
}

func TestLifecycleMix(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	m := Mix()
	want := map[string]float64{"create": 0.1, "read": 0.6, "refresh": 0.2, "delete": 0.1}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-9 {
			t.Errorf("mix %s = %v, want %v", k, m[k], v)
		}
	}
	if Lifecycle[0] != OpCreate || Lifecycle[len(Lifecycle)-1] != OpDelete {
		t.Error("a session must start with create and end with delete")
	}
}

func TestSessionValueHasTheAskedSize(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	rng := rand.New(rand.NewPCG(3, 4))
	key := "valkey-dr:validate:{0123456789abcdef-w12-123456}:session"
	for _, size := range []int{16, 64, 256, 4096} {
		a, b := sessionValue(rng, key, size), sessionValue(rng, key, size)
		if len(a) != size || a == b {
			t.Errorf("size %d: len %d, unique %v", size, len(a), a != b)
		}
	}
}

func totals(ops, errs int64, p50, p99, maxMs float64) Totals {
	t := Totals{Counts: Counts{Ops: ops, Errors: errs}, Successes: ops - errs, Latency: Latency{P50Ms: p50, P99Ms: p99, MaxMs: maxMs}}
	if ops > 0 {
		t.ErrorRate = float64(errs) / float64(ops)
	}
	return t
}

func TestSLAEvaluate(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	sla := SLA{P99: 10 * time.Millisecond, ErrorRate: 0.001}
	tests := map[string]struct {
		sla      SLA
		t        Totals
		wantPass bool
		wantFail []string
	}{
		"within every line":                     {sla, totals(10000, 5, 0.2, 2, 30), true, nil},
		"p99 above the SLA":                     {sla, totals(10000, 0, 0.2, 12, 30), false, []string{"p99"}},
		"too many errors":                       {sla, totals(10000, 11, 0.2, 2, 30), false, []string{"error-rate"}},
		"no command completed":                  {sla, totals(0, 0, 0, 0, 0), false, []string{"ops"}},
		"every command failed: no latency line": {sla, totals(100, 100, 0, 0, 0), false, []string{"successes", "error-rate"}},
		"nothing succeeded fails whatever the error rate allows": {SLA{P99: time.Millisecond, ErrorRate: 1}, totals(5, 5, 0, 0, 0), false, []string{"successes"}},
		"p50 and max only when asked":                            {SLA{P50: time.Millisecond, Max: 20 * time.Millisecond, ErrorRate: 1}, totals(10, 0, 0.5, 9, 25), false, []string{"max"}},
		"zero error rate allows no error":                        {SLA{}, totals(10, 1, 0.5, 9, 25), false, []string{"error-rate"}},
		"a zero latency limit is unchecked":                      {SLA{ErrorRate: 0.5}, totals(10, 1, 500, 900, 2500), true, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, lines := tc.sla.Evaluate(tc.t)
			if ok != tc.wantPass {
				t.Errorf("pass = %v, want %v: %+v", ok, tc.wantPass, lines)
			}
			var failed []string
			for _, l := range lines {
				if !l.Pass {
					failed = append(failed, l.Name)
				}
				if !strings.Contains(l.Text, "SLA") && l.Name != "ops" {
					t.Errorf("line %q does not read as an SLA line", l.Text)
				}
			}
			if strings.Join(failed, ",") != strings.Join(tc.wantFail, ",") {
				t.Errorf("failed lines %v, want %v", failed, tc.wantFail)
			}
		})
	}
}

func sampleEvidence() *Evidence {
	start := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	ev := &Evidence{Kind: "watch", RunID: "0123456789abcdef", StartedAt: start, Verdict: "fail", Reason: `p99 <high> & "slow"`,
		SLA: []SLACheck{{Name: "p99", Limit: 10, Unit: "ms"}, {Name: "error-rate", Limit: 0.001, Unit: "fraction"}}}
	ev.Outcome = &Outcome{}
	for i := range 5 {
		iv := Interval{Index: i, Start: start.Add(time.Duration(i) * time.Second), ElapsedS: float64(i + 1),
			Counts: Counts{DurationS: 1, Ops: 100}, ByOp: map[string]int64{"create": 10, "read": 60, "refresh": 20, "delete": 10},
			Latency: Latency{P50Ms: 0.2, P95Ms: 0.5, P99Ms: 1 + float64(i), MaxMs: 30}}
		if i == 2 {
			iv.Errors, iv.Reconnects, iv.ErrorClasses = 100, 1, map[string]int64{"timeout": 100}
		}
		iv.finish()
		ev.Intervals = append(ev.Intervals, iv)
	}
	return ev
}

func TestCSVAndSVG(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	ev := sampleEvidence()
	var c bytes.Buffer
	if err := WriteCSV(&c, ev.Intervals); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 6 || len(rows[1]) != len(CSVHeader) {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	if rows[3][6] != "100" || rows[3][7] != "1.000000" || rows[3][15] != "10" {
		t.Errorf("row of the failing interval: %v", rows[3])
	}
	var s bytes.Buffer
	if err := WriteSVG(&s, ev); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(s.Bytes(), new(struct{})); err != nil {
		t.Fatalf("svg is not well-formed: %v\n%s", err, s.String())
	}
	svg := s.String()
	// The interval where every command failed breaks the latency lines (two segments each).
	if n := strings.Count(svg, `data-series="p50" d="M`); n != 1 || strings.Count(svg[strings.Index(svg, `data-series="p50"`):], "M") < 2 {
		t.Errorf("p50 path is not broken at the failing interval")
	}
	for _, want := range []string{`class="errors"`, `class="reconnects"`, `class="sla"`, "SLA p99 10.00ms"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %s", want)
		}
	}
	// An empty run (traffic never started) still draws a readable plot.
	ev.Outcome = &Outcome{}
	s.Reset()
	if err := WriteSVG(&s, ev); err != nil || xml.Unmarshal(s.Bytes(), new(struct{})) != nil || !strings.Contains(s.String(), "no traffic was sent: p99 &lt;high&gt; &amp; &#34;slow&#34;") {
		t.Errorf("empty svg: %v", err)
	}
}
