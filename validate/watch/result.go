package watch

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// Latency is a latency summary in milliseconds. The embedded Latency of Interval and Totals is
// over successful commands only (a failed command is an error, counted in the error rate, as
// CloudWatch's Successful*RequestLatency does); Failed and Attempts hold the rest.
type Latency struct {
	P50Ms  float64 `json:"p50Ms"`
	P95Ms  float64 `json:"p95Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
	MeanMs float64 `json:"meanMs"`
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// failedAndAttempts summarises the failed commands and every completed attempt (successes and
// failures merged): during a stall the successes that get through are the fast ones, so only
// these two show the commands that waited for their timeout.
func failedAndAttempts(success, failed *Hist) (f, all Latency) {
	var a Hist
	a.Merge(success)
	a.Merge(failed)
	return latencyOf(failed), latencyOf(&a)
}

func latencyOf(h *Hist) Latency {
	return Latency{P50Ms: ms(h.Quantile(0.50)), P95Ms: ms(h.Quantile(0.95)), P99Ms: ms(h.Quantile(0.99)),
		MaxMs: ms(h.Max()), MeanMs: ms(h.Mean())}
}

// Counts are what an Interval and the run's Totals count, over their DurationS: one type, so
// that a row of the CSV and the run's totals say the same thing under the same names.
type Counts struct {
	// DurationS is the length of the interval (of the run for Totals).
	DurationS float64 `json:"durationS"`
	// Ops counts the commands that completed (successfully or not).
	Ops       int64   `json:"ops"`
	OpsPerSec float64 `json:"opsPerSec"`
	// Errors counts failed commands; ErrorRate is Errors/Ops (0 when there were none).
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"errorRate"`
	// Reconnects counts new connections to a node the client had been connected to before;
	// DialFailures counts connection attempts that failed.
	Reconnects   int64 `json:"reconnects"`
	DialFailures int64 `json:"dialFailures"`
}

// finish derives the rates once the counts and the duration are in.
func (c *Counts) finish() {
	if c.DurationS > 0 {
		c.OpsPerSec = float64(c.Ops) / c.DurationS
	}
	if c.Ops > 0 {
		c.ErrorRate = float64(c.Errors) / float64(c.Ops)
	}
}

// Interval is one reporting interval: a line on the terminal, a row of the CSV.
type Interval struct {
	// Index counts intervals from 0.
	Index int `json:"index"`
	// Start is when the interval began (UTC).
	Start time.Time `json:"start"`
	// ElapsedS is the time since traffic started at the interval's end.
	ElapsedS float64 `json:"elapsedS"`
	Counts
	Latency
	// Failed is the latency of the failed commands (errors and timeouts: a timeout counts the
	// time waited for it); zero when none failed.
	Failed Latency `json:"failedLatency"`
	// Attempts is the latency of every completed command, successful or not.
	Attempts Latency `json:"attemptLatency"`
	// SLAMissed names the SLA lines (p50, p99, max, error-rate; ops when no command completed)
	// this interval alone misses: where to look, not the verdict, which is over the whole run.
	// Filled by Evidence.MarkSLAMissed once the SLA lines are known.
	SLAMissed []string `json:"slaMissed,omitempty"`
	// ByOp counts commands per operation (create, read, refresh, delete).
	ByOp map[string]int64 `json:"byOp"`
	// ErrorClasses counts errors by class (timeout, refused, data, ...).
	ErrorClasses map[string]int64 `json:"errorClasses,omitempty"`
}

// OpTotals summarises one operation over the run.
type OpTotals struct {
	Ops    int64 `json:"ops"`
	Errors int64 `json:"errors"`
	Latency
}

// Totals summarise the whole run.
type Totals struct {
	Counts
	// Successes counts commands that succeeded (the latency percentiles are over these).
	Successes int64 `json:"successes"`
	Latency
	// Failed and Attempts are as in Interval, over the run.
	Failed       Latency             `json:"failedLatency"`
	Attempts     Latency             `json:"attemptLatency"`
	ByOp         map[string]OpTotals `json:"byOp"`
	ErrorClasses map[string]int64    `json:"errorClasses,omitempty"`
	// ErrorSamples are up to 10 distinct error messages with their counts.
	ErrorSamples map[string]int64 `json:"errorSamples,omitempty"`
}

// Cleanup is what the end-of-run cleanup did.
type Cleanup struct {
	// Prefix is the run's key prefix; every key it wrote starts with it.
	Prefix string `json:"prefix"`
	// Live is the number of sessions alive when traffic stopped; Unacknowledged the number of
	// keys whose create, delete or read ended ambiguously (they may exist).
	Live           int `json:"live"`
	Unacknowledged int `json:"unacknowledged"`
	// Deleted counts keys that existed and were deleted.
	Deleted int `json:"deleted"`
	// ScanCalls and ScanComplete describe the prefix scan of every node; Remaining is the
	// number of keys still found under the prefix after deleting (0 when all is well).
	ScanCalls    int  `json:"scanCalls"`
	ScanComplete bool `json:"scanComplete"`
	Remaining    int  `json:"remaining"`
	// Error is set when cleanup could not finish; the keys expire with their TTL anyway.
	// ErrorClass is its valkeyclient class: "timeout" means a node did not answer.
	Error      string `json:"error,omitempty"`
	ErrorClass string `json:"errorClass,omitempty"`
}

func (c *Cleanup) fail(p valkeyclient.Problem) { c.Error, c.ErrorClass = p.Msg, p.Class }

// OK reports whether cleanup proved nothing of the run is left.
func (c *Cleanup) OK() bool { return c != nil && c.Error == "" && c.Remaining == 0 }

// Text is a one-line description for the terminal.
func (c *Cleanup) Text(ttl time.Duration) string {
	if c.Error != "" {
		return fmt.Sprintf("cleanup FAILED: %s (the keys expire within %v)", c.Error, ttl)
	}
	scan := "a scan of every node found no key left"
	switch {
	case c.Remaining > 0:
		scan = fmt.Sprintf("%d key(s) still found under the prefix (they expire within %v)", c.Remaining, ttl)
	case !c.ScanComplete:
		scan = fmt.Sprintf("the prefix scan stopped at its deadline after %d SCAN calls, none found", c.ScanCalls)
	}
	return fmt.Sprintf("cleanup: deleted %d key(s) (%d live sessions, %d unacknowledged writes) under %s*; %s",
		c.Deleted, c.Live, c.Unacknowledged, c.Prefix, scan)
}

// Outcome is what Run measured and cleaned up.
type Outcome struct {
	Config      Config    `json:"-"`
	StartedAt   time.Time `json:"trafficStartedAt"`
	FinishedAt  time.Time `json:"trafficFinishedAt"`
	Interrupted bool      `json:"interrupted,omitempty"`
	// RedirectLoop is set when the traffic stopped early on a redirect loop
	// (valkeyclient.MaxRedirectedCommands, or the RedirectGuard refused a dial): what happened,
	// in one sentence.
	RedirectLoop string     `json:"redirectLoop,omitempty"`
	Intervals    []Interval `json:"intervals"`
	Total        Totals     `json:"total"`
	Cleanup      *Cleanup   `json:"cleanup"`
	// Reader are the reads through the read port (absent without --reader-port).
	Reader *ReaderTotals `json:"reader,omitempty"`
}

// aggregate accumulates windows over the run (owned by the reporting goroutine): at most
// errorSamples distinct error messages.
type aggregate struct {
	window
	base dialSnapshot
}

func newAggregate() *aggregate { return &aggregate{window: *newWindow()} }

func (a *aggregate) add(w *window) { a.merge(w, errorSamples) }

func (a *aggregate) totals(d time.Duration, dials dialSnapshot) Totals {
	t := Totals{Counts: Counts{DurationS: seconds(d),
		Reconnects: dials.reconnects - a.base.reconnects, DialFailures: dials.failures - a.base.failures},
		ByOp: map[string]OpTotals{}}
	var all Hist
	for op := range numOps {
		all.Merge(&a.hist[op])
		t.Ops += a.ops[op]
		t.Errors += a.errs[op]
		t.ByOp[op.String()] = OpTotals{Ops: a.ops[op], Errors: a.errs[op], Latency: latencyOf(&a.hist[op])}
	}
	t.Successes = int64(all.Count())
	t.Latency = latencyOf(&all)
	t.Failed, t.Attempts = failedAndAttempts(&all, &a.failed)
	t.finish()
	if len(a.classes) > 0 {
		t.ErrorClasses = a.classes
	}
	if len(a.samples) > 0 {
		t.ErrorSamples = a.samples
	}
	return t
}

// SLA is what "healthy" means; a zero latency field is not checked.
type SLA struct {
	// P50, P99 and Max bound the latency of successful commands; 0 means not checked.
	P50, P99, Max time.Duration
	// ErrorRate is the highest acceptable fraction of failed commands (0.001 = 0.1%); 0 allows
	// no error at all.
	ErrorRate float64
	// Rate is the requested load (--rate, commands/s; 0 unpaced: not checked). A run that
	// offered less than MinRateShare of it was judged on less load than asked for: the
	// "offered" line fails unless AllowUnderRate (issue 26: a watch passed at 85% of --rate).
	Rate           float64
	AllowUnderRate bool
}

// MinRateShare is the share of --rate a run must achieve for its SLA verdict to stand.
const MinRateShare = 0.95

// MinRateJudgedS is the shortest run whose offered load is judged: in a shorter one the start
// (connections, the first paced commands) is too large a share of the clock (measured: 2 s
// runs at 150-200/s on a busy 2-core host offered 84-88%).
const MinRateJudgedS = 10.0

// CheckOffered is the name of the offered-load line.
const CheckOffered = "offered"

// SLACheck is one line of the verdict.
type SLACheck struct {
	// Name is p50, p99, max or error-rate.
	Name string `json:"name"`
	// Limit and Actual are in Unit (ms, or a fraction for error-rate).
	Limit  float64 `json:"limit"`
	Actual float64 `json:"actual"`
	Unit   string  `json:"unit"`
	Pass   bool    `json:"pass"`
	// Text is the line printed on the terminal.
	Text string `json:"text"`
}

// Evaluate returns whether every SLA line holds for t, and the lines.
func (s SLA) Evaluate(t Totals) (bool, []SLACheck) {
	var out []SLACheck
	ok := true
	if t.Ops == 0 {
		out = append(out, SLACheck{Name: "ops", Unit: "count", Text: "no command completed: nothing to judge (FAIL)"})
		return false, out
	}
	if t.Successes == 0 {
		// No latency to judge: a latency line would read "p99 0.000ms > 10ms", a number
		// nothing measured. This line fails the run whatever --sla-error-rate allows.
		out = append(out, SLACheck{Name: "successes", Limit: 1, Unit: "count",
			Text: fmt.Sprintf("SLA %-10s >= %-9s FAIL (no command succeeded: no latency to judge)", "successes", "1")})
		ok = false
	}
	lat := func(name string, limit time.Duration, actual float64) {
		if limit <= 0 || t.Successes == 0 {
			return
		}
		c := SLACheck{Name: name, Limit: ms(limit), Actual: actual, Unit: "ms"}
		c.Pass = actual <= c.Limit
		c.Text = fmt.Sprintf("SLA %-10s <= %-9s %s (%s)", name, fmtMs(c.Limit), passFail(c.Pass), fmtMs(actual))
		ok = ok && c.Pass
		out = append(out, c)
	}
	lat("p50", s.P50, t.P50Ms)
	lat("p99", s.P99, t.P99Ms)
	lat("max", s.Max, t.MaxMs)
	c := SLACheck{Name: "error-rate", Limit: s.ErrorRate, Actual: t.ErrorRate, Unit: "fraction", Pass: t.ErrorRate <= s.ErrorRate}
	c.Text = fmt.Sprintf("SLA %-10s <= %-9s %s (%s: %d of %d commands failed%s)", "error-rate", pct(s.ErrorRate), passFail(c.Pass),
		pct(t.ErrorRate), t.Errors, t.Ops, classesText(t.ErrorClasses))
	ok = ok && c.Pass
	out = append(out, c)
	if s.Rate > 0 && t.DurationS >= MinRateJudgedS {
		share := t.OpsPerSec / s.Rate
		o := SLACheck{Name: CheckOffered, Limit: MinRateShare * s.Rate, Actual: t.OpsPerSec, Unit: "ops/s", Pass: share >= MinRateShare}
		switch {
		case o.Pass:
			o.Text = fmt.Sprintf("SLA %-10s >= %-9s PASS (%.1f/s, %.1f%% of --rate %g)", CheckOffered, fmt.Sprintf("%.0f/s", o.Limit), t.OpsPerSec, share*100, s.Rate)
		case s.AllowUnderRate:
			o.Pass = true
			o.Text = fmt.Sprintf("SLA %-10s >= %-9s UNDER RATE, ALLOWED (%.1f/s, %.1f%% of --rate %g: the verdict above was judged on less load than asked for; --allow-under-rate)",
				CheckOffered, fmt.Sprintf("%.0f/s", o.Limit), t.OpsPerSec, share*100, s.Rate)
		default:
			o.Text = fmt.Sprintf("SLA %-10s >= %-9s FAIL (%.1f/s, %.1f%% of --rate %g: the SLA was judged on less load than asked for; fewer workers than the rate needs (raise --concurrency / --conns-per-node), a busy client host, or a slow server; --allow-under-rate accepts it)",
				CheckOffered, fmt.Sprintf("%.0f/s", o.Limit), t.OpsPerSec, share*100, s.Rate)
		}
		ok = ok && o.Pass
		out = append(out, o)
	}
	return ok, out
}

// Missed returns the names of the SLA lines that iv alone misses, judged as Evaluate judges the
// run: a latency line is missed when the interval's successful commands exceed it or when none
// succeeded; ops when no command completed in the interval at all (a stall longer than the
// interval).
func Missed(iv Interval, lines []SLACheck) []string {
	if len(lines) == 0 {
		return nil
	}
	if iv.Ops == 0 {
		return []string{"ops"}
	}
	var out []string
	for _, c := range lines {
		var actual float64
		switch c.Name {
		case "p50":
			actual = iv.P50Ms
		case "p99":
			actual = iv.P99Ms
		case "max":
			actual = iv.MaxMs
		case "error-rate":
			if iv.ErrorRate > c.Limit {
				out = append(out, c.Name)
			}
			continue
		default:
			continue
		}
		if c.Unit == "ms" && c.Limit > 0 && (iv.Ops == iv.Errors || actual > c.Limit) {
			out = append(out, c.Name)
		}
	}
	return out
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func classesText(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return "; " + strings.Join(parts, ", ")
}

func pct(f float64) string { return fmt.Sprintf("%.3f%%", f*100) }

// fmtMs prints milliseconds with 3 significant figures.
func fmtMs(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.3fms", v)
	case v < 100:
		return fmt.Sprintf("%.2fms", v)
	default:
		return fmt.Sprintf("%.0fms", v)
	}
}

// dialSnapshot is the DialCounter's counts at one instant.
type dialSnapshot struct{ dials, reconnects, failures int64 }

// DialCounter counts the client's connections: wire it into the valkey-go options with Wrap.
// A reconnect is a dial that replaces a connection: a dial to a node one of whose connections
// has closed since (a broken connection being replaced), or one that leaves more than PerNode
// connections open to the node (valkey-go follows a redirect to the node that sent it on a new
// connection and closes the old one seconds later: thousands of those were "0 reconnects"
// before, issue 23). The first connections to a node (valkey-go opens them lazily, up to the
// layout's) are not.
type DialCounter struct {
	// ReadOnly are read-port nodes (valkeyclient.Roles): a failed dial to one is counted in
	// ReadOnlyFailures, never as a primary dial failure (which probe reads as "part of the
	// keyspace is not answering"). Set it before the run.
	ReadOnly map[string]bool
	// ReadOnlyFailures counts failed dials to ReadOnly nodes.
	ReadOnlyFailures int64
	// PerNode is how many connections to one node the client's layout holds (its pipelined
	// connections); 0 counts only replacements of closed connections. Set it before Wrap.
	PerNode int

	mu       sync.Mutex
	open     map[string]int64 // connections to the address open now
	closed   map[string]int64 // connections to the address that closed
	refilled map[string]int64 // replacements counted so far (reconnects, and surplus dials whose old connection is still to close)
	n        dialSnapshot
}

// Wrap makes opt dial through the counter: through opt.DialCtxFn when one is set, else as
// valkey-go dials by default (valkeyclient.Dial).
func (d *DialCounter) Wrap(opt *valkey.ClientOption) {
	inner := opt.DialCtxFn
	if inner == nil {
		inner = valkeyclient.Dial
	}
	opt.DialCtxFn = func(ctx context.Context, dst string, dialer *net.Dialer, cfg *tls.Config) (net.Conn, error) {
		conn, err := inner(ctx, dst, dialer, cfg)
		d.mu.Lock()
		defer d.mu.Unlock()
		if err != nil {
			if d.ReadOnly[dst] {
				d.ReadOnlyFailures++
			} else {
				d.n.failures++
			}
			return nil, err
		}
		if d.closed == nil {
			d.open, d.closed, d.refilled = map[string]int64{}, map[string]int64{}, map[string]int64{}
		}
		d.n.dials++
		d.open[dst]++
		switch {
		case d.closed[dst] > d.refilled[dst]:
			d.refilled[dst]++
			d.n.reconnects++
		case d.PerNode > 0 && d.open[dst] > int64(d.PerNode):
			// A connection beside the layout's: it replaces one that closes later, whose
			// close is counted now (refilled), not again then.
			d.refilled[dst]++
			d.n.reconnects++
		}
		return valkeyclient.OnClose(conn, func() {
			d.mu.Lock()
			d.open[dst]--
			d.closed[dst]++
			d.mu.Unlock()
		}), nil
	}
}

func (d *DialCounter) snapshot() dialSnapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// Dials returns the number of successful connections so far.
func (d *DialCounter) Dials() int64 { return d.snapshot().dials }
