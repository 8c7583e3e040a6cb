package watch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// Op is one kind of command in the mix.
type Op int

// The operations of a session's lifecycle.
const (
	// OpCreate is SET <key> <value> NX PX <ttl>: a new session, only if the key is absent.
	OpCreate Op = iota
	// OpRead is GET <key>: the value must be the one the run wrote.
	OpRead
	// OpRefresh is PEXPIRE <key> <ttl>: sliding expiry on activity.
	OpRefresh
	// OpDelete is DEL <key>: logout.
	OpDelete
	numOps
)

// OpNames are the names of the operations in output and evidence, in Op order.
var OpNames = [numOps]string{"create", "read", "refresh", "delete"}

// String returns the operation's name.
func (o Op) String() string { return OpNames[o] }

// Lifecycle is the order of commands every session goes through: 1 create, 6 reads, 2 refreshes,
// 1 delete. It fixes the mix at 10% create, 60% read, 20% refresh, 10% delete.
var Lifecycle = []Op{OpCreate, OpRead, OpRead, OpRefresh, OpRead, OpRead, OpRefresh, OpRead, OpRead, OpDelete}

// Mix returns the share of each operation in Lifecycle, by name.
func Mix() map[string]float64 {
	m := map[string]float64{}
	for _, o := range Lifecycle {
		m[o.String()] += 1 / float64(len(Lifecycle))
	}
	return m
}

// Defaults for Config fields left zero.
const (
	// DefaultRate is gentle enough for a production cache during stabilization.
	DefaultRate = 200
	// DefaultConcurrency is the number of workers (each has one command in flight at a time).
	DefaultConcurrency = 4
	// DefaultInterval is how often a line is printed and a row is written.
	DefaultInterval = time.Second
	// DefaultOpTimeout bounds one command: a longer wait counts as an error (class timeout).
	DefaultOpTimeout = time.Second
	// DefaultSessionsPerWorker is how many sessions each worker keeps alive at once.
	DefaultSessionsPerWorker = 8
	// DefaultValueSize is the size of a session value in bytes.
	DefaultValueSize = 256
	// DefaultSessionTTL is the TTL of every session key: they expire even if cleanup cannot run.
	DefaultSessionTTL = 10 * time.Minute
	// DefaultCleanupTimeout bounds the final cleanup, which runs even after Ctrl-C.
	DefaultCleanupTimeout = 10 * time.Second
	// maxPending caps the keys of unacknowledged creates remembered for cleanup; the prefix scan
	// finds the rest.
	maxPending = 100000
	// errorSamples is how many distinct error messages the evidence keeps.
	errorSamples = 10
)

// Config is one run of the engine. Zero fields take the Default* values.
type Config struct {
	// Duration is how long traffic runs.
	Duration time.Duration
	// Rate is the target of commands per second over all workers; 0 means as fast as the
	// workers can go (one command in flight each), which is what the benchmark uses.
	Rate int
	// Concurrency is the number of workers.
	Concurrency int
	// Interval is the reporting interval.
	Interval time.Duration
	// OpTimeout bounds one command.
	OpTimeout time.Duration
	// SessionsPerWorker is how many sessions each worker keeps alive at once.
	SessionsPerWorker int
	// ValueSize is the session value size in bytes (16..65536).
	ValueSize int
	// SessionTTL is the TTL set on create and on refresh.
	SessionTTL time.Duration
	// CleanupTimeout bounds the final cleanup; what it cannot delete expires with SessionTTL.
	CleanupTimeout time.Duration
	// Primaries are the nodes the warm-up connects to (valkeyclient.Roles); nil means every node.
	// A read-port node is left out: the primary traffic never touches it.
	Primaries []string
	// Reader, when set, is a client of the read port (READONLY on its connections):
	// ReaderShare of the reads (default DefaultReaderShare) go through it and are reported
	// in Outcome.Reader, apart from the primary's totals. ReaderAddr names it.
	Reader      valkey.Client
	ReaderAddr  string
	ReaderShare float64
	// Guard is the RedirectGuard of the client (valkeyclient.NewGuardedClient): when it
	// refuses a dial, the traffic stops with the redirect-loop verdict. nil: only commands
	// that end on a redirect stop it (past valkeyclient.MaxRedirectedCommands).
	Guard *valkeyclient.RedirectGuard
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Concurrency, DefaultConcurrency)
	def(&c.SessionsPerWorker, DefaultSessionsPerWorker)
	def(&c.ValueSize, DefaultValueSize)
	defD(&c.Interval, DefaultInterval)
	defD(&c.OpTimeout, DefaultOpTimeout)
	defD(&c.SessionTTL, DefaultSessionTTL)
	defD(&c.CleanupTimeout, DefaultCleanupTimeout)
	if c.Reader != nil && c.ReaderShare == 0 {
		c.ReaderShare = DefaultReaderShare
	}
	return c
}

// Keys says where the run's keys live.
type Keys struct {
	// Key returns a key of the run with its own hash tag for tag (checks.Env.Key).
	Key func(tag, name string) string
	// Prefix is the common start of every key of the run (no glob metacharacters).
	Prefix string
}

// Hooks are optional callbacks.
type Hooks struct {
	// OnInterval receives each interval as it closes (live output).
	OnInterval func(Interval)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Errors the engine counts in class data.
var (
	// ErrKeyExists: SET NX found the key: it is not the run's, the run leaves it alone.
	ErrKeyExists = errors.New("SET NX refused: the key exists and is not this run's (left untouched)")
	// ErrSessionLost: a session the run created is gone before its TTL (evicted or deleted).
	ErrSessionLost = errors.New("session lost: a key this run created is gone before its TTL (evicted or deleted by someone else)")
	// ErrValueMismatch: GET returned another value than the run wrote.
	ErrValueMismatch = errors.New("GET returned a different value than this run wrote")
)

// classOf returns the error class (checks.Class*) of an op error.
func classOf(err error) string {
	if errors.Is(err, ErrKeyExists) || errors.Is(err, ErrSessionLost) || errors.Is(err, ErrValueMismatch) {
		return valkeyclient.ClassData
	}
	return valkeyclient.Classify(err, "").Class
}

// window is what workers record between two ticks.
type window struct {
	hist [numOps]Hist
	// failed holds the latency of failed commands (errors and timeouts), apart from hist so
	// that the success-latency SLA keeps its meaning while a stall still shows as a spike.
	failed  Hist
	ops     [numOps]int64
	errs    [numOps]int64
	classes map[string]int64
	samples map[string]int64
}

func (w *window) reset() {
	for i := range w.hist {
		w.hist[i].Reset()
	}
	w.failed.Reset()
	w.ops, w.errs = [numOps]int64{}, [numOps]int64{}
	clear(w.classes)
	clear(w.samples)
}

// stripe is one lock-protected window shared by a few workers (bounded memory whatever the
// concurrency; an uncontended lock costs nanoseconds next to a network round trip).
type stripe struct {
	mu  sync.Mutex
	cur *window
}

func newWindow() *window {
	return &window{classes: map[string]int64{}, samples: map[string]int64{}}
}

// merge adds o's counts and latencies to w; of o's error messages, those w has and new ones
// while w holds fewer than maxSamples distinct.
func (w *window) merge(o *window, maxSamples int) {
	for op := range numOps {
		w.hist[op].Merge(&o.hist[op])
		w.ops[op] += o.ops[op]
		w.errs[op] += o.errs[op]
	}
	w.failed.Merge(&o.failed)
	for k, v := range o.classes {
		w.classes[k] += v
	}
	for k, v := range o.samples {
		if len(w.samples) < maxSamples || w.samples[k] > 0 {
			w.samples[k] += v
		}
	}
}

type session struct {
	key, value string
	step       int
}

type engine struct {
	c       valkey.Client
	cfg     Config
	keys    Keys
	stripes []*stripe
	pendMu  sync.Mutex
	pending []string // keys of creates whose reply never came: they may exist
	live    []string // keys of the sessions alive when the workers stopped
	gen     atomic.Int64
	dials   *DialCounter
	now     func() time.Time
	reader  *readerStats
	// redirected counts commands that ended on a redirect; stopRun ends the traffic early
	// and loop says why (a redirect loop), set once under loopMu.
	redirected atomic.Int64
	succeeded  atomic.Bool // some command succeeded (the loop is then not "every command")
	stopRun    context.CancelFunc
	loopMu     sync.Mutex
	loop       string
}

// Run sends the traffic for cfg.Duration (or until ctx ends), reports every interval, and then
// cleans up (even after ctx ended). dials, when not nil, must be the counter wired into the
// client's options (reconnects); c must already be connected.
func Run(ctx context.Context, c valkey.Client, cfg Config, keys Keys, dials *DialCounter, hooks Hooks) *Outcome {
	cfg = cfg.withDefaults()
	now := hooks.Now
	if now == nil {
		now = time.Now
	}
	nStripes := min(cfg.Concurrency, 16)
	e := &engine{c: c, cfg: cfg, keys: keys, dials: dials, now: now, reader: &readerStats{classes: map[string]int64{}}}
	for range nStripes {
		e.stripes = append(e.stripes, &stripe{cur: newWindow()})
	}
	if dials == nil {
		e.dials = &DialCounter{}
	}
	e.warmUp(ctx)

	agg := newAggregate()
	agg.base = e.dials.snapshot()
	start := now()
	r := &Outcome{Config: cfg, StartedAt: start.UTC()}
	runCtx, cancel := context.WithDeadline(ctx, start.Add(cfg.Duration))
	defer cancel()
	e.stopRun = cancel

	var wg sync.WaitGroup
	var pace time.Duration
	if cfg.Rate > 0 {
		pace = time.Duration(float64(time.Second) * float64(cfg.Concurrency) / float64(cfg.Rate))
	}
	for i := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Offset the workers' schedules so that paced traffic is spread over the interval.
			var offset time.Duration
			if pace > 0 {
				offset = pace * time.Duration(i) / time.Duration(cfg.Concurrency)
			}
			e.worker(ctx, runCtx, i, start.Add(offset), pace)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	last := start
	spare := make([]*window, len(e.stripes))
	for i := range spare {
		spare[i] = newWindow()
	}
	lastDial := agg.base
	collect := func(end time.Time, final bool) {
		iv := e.collect(spare, agg)
		d := e.dials.snapshot()
		iv.Index = len(r.Intervals)
		iv.Start = last.UTC()
		iv.ElapsedS = seconds(end.Sub(start))
		iv.DurationS = seconds(end.Sub(last))
		iv.Reconnects = d.reconnects - lastDial.reconnects
		iv.DialFailures = d.failures - lastDial.failures
		iv.finish()
		lastDial = d
		last = end
		// The last, partial interval holds the commands that finished after the deadline; an
		// empty sliver of one is not worth a row.
		if final && iv.Ops == 0 && iv.Reconnects == 0 && iv.DialFailures == 0 && len(r.Intervals) > 0 {
			return
		}
		r.Intervals = append(r.Intervals, iv)
		if hooks.OnInterval != nil {
			hooks.OnInterval(iv)
		}
	}
	// Interval boundaries at start + k*Interval; the last interval runs from the last boundary
	// before the deadline to the moment every worker has stopped (in-flight commands land in it).
	deadline := start.Add(cfg.Duration)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
loop:
	for k := 1; ; k++ {
		boundary := start.Add(time.Duration(k) * cfg.Interval)
		if deadline.Sub(boundary) < cfg.Interval/2 {
			<-done
			break
		}
		timer.Reset(boundary.Sub(now()))
		select {
		case <-timer.C:
			collect(boundary, false)
		case <-done:
			break loop
		}
	}
	end := now()
	collect(end, true)
	r.FinishedAt = end.UTC()
	r.Interrupted = ctx.Err() != nil
	e.loopMu.Lock()
	r.RedirectLoop = e.loop
	e.loopMu.Unlock()
	r.Total = agg.totals(end.Sub(start), e.dials.snapshot())
	r.Reader = e.readerTotals()

	cleanupFor := cfg.CleanupTimeout
	if ctx.Err() != nil {
		cleanupFor = min(cleanupFor, valkeyclient.CleanupAfterInterrupt)
	}
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupFor)
	defer ccancel()
	r.Cleanup = e.cleanup(cctx)
	return r
}

// warmUp connects to every node before the clock starts, so first connections are not counted
// as reconnects nor their handshakes as command latency.
func (e *engine) warmUp(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	var wg sync.WaitGroup
	nodes := e.c.Nodes()
	if e.cfg.Primaries != nil {
		only := map[string]valkey.Client{}
		for _, a := range e.cfg.Primaries {
			if n, ok := nodes[a]; ok {
				only[a] = n
			}
		}
		nodes = only
	}
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.Do(wctx, n.B().Ping().Build()).Error()
		}()
	}
	wg.Wait()
}

func (e *engine) worker(parent, runCtx context.Context, id int, next time.Time, pace time.Duration) {
	st := e.stripes[id%len(e.stripes)]
	rng := rand.New(rand.NewPCG(uint64(id), uint64(e.now().UnixNano())))
	sessions := make([]session, e.cfg.SessionsPerWorker)
	defer func() {
		// Hand the live sessions to cleanup: their keys were created by this run.
		e.pendMu.Lock()
		defer e.pendMu.Unlock()
		for _, s := range sessions {
			if s.key != "" && s.step > 0 {
				e.live = append(e.live, s.key)
			}
		}
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	oc := &opCtx{parent: parent, timeout: e.cfg.OpTimeout}
	defer oc.close()
	for cur := 0; ; cur = (cur + 1) % len(sessions) {
		if pace > 0 {
			if wait := next.Sub(e.now()); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-runCtx.Done():
					return
				}
			}
			next = next.Add(pace)
			// Behind by more than a second (a stall): do not burst to catch up.
			if late := e.now().Sub(next); late > time.Second {
				next = e.now()
			}
		}
		if runCtx.Err() != nil {
			return
		}
		e.step(parent, oc, st, rng, id, &sessions[cur])
	}
}

// opCtx hands out contexts for commands: one context with a deadline serves several commands
// (a new one per command would cost a timer each, measurable at 100k commands/s), so a
// command's timeout is between 90% and 100% of OpTimeout.
type opCtx struct {
	parent   context.Context
	timeout  time.Duration
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time
}

func (o *opCtx) get(now time.Time) context.Context {
	if o.ctx == nil || o.deadline.Sub(now) < o.timeout*9/10 {
		if o.cancel != nil {
			o.cancel()
		}
		o.deadline = now.Add(o.timeout)
		o.ctx, o.cancel = context.WithDeadline(o.parent, o.deadline)
	}
	return o.ctx
}

func (o *opCtx) close() {
	if o.cancel != nil {
		o.cancel()
	}
}

// step runs the next command of session s and records it. The clock runs around the command
// only (building it is not the cache's latency), as valkey-benchmark measures.
func (e *engine) step(ctx context.Context, oc *opCtx, st *stripe, rng *rand.Rand, worker int, s *session) {
	c := e.c
	op := Lifecycle[s.step]
	if op == OpCreate && s.key == "" {
		// Every session its own hash tag: sessions land on every slot and every shard, as an
		// application's do, so a stalled shard shows.
		s.key = e.keys.Key(fmt.Sprintf("w%d-%d", worker, e.gen.Add(1)), "session")
		s.value = sessionValue(rng, s.key, e.cfg.ValueSize)
	}
	ttl := e.cfg.SessionTTL.Milliseconds()
	if op == OpRead && e.useReader(rng) {
		// This read goes through the read port, counted apart; the session moves on.
		e.readThroughReader(oc.get(time.Now()), s.key, s.value)
		s.step++
		return
	}
	var cmd valkey.Completed
	switch op {
	case OpCreate:
		cmd = c.B().Set().Key(s.key).Value(s.value).Nx().PxMilliseconds(ttl).Build()
	case OpRead:
		cmd = c.B().Get().Key(s.key).Build()
	case OpRefresh:
		cmd = c.B().Pexpire().Key(s.key).Milliseconds(ttl).Build()
	case OpDelete:
		cmd = c.B().Del().Key(s.key).Build()
	}
	start := time.Now()
	resp := c.Do(oc.get(start), cmd)
	took := time.Since(start)

	var err error
	restart := false // the session ends: next time a new key is created
	switch op {
	case OpCreate:
		err = resp.Error()
		switch {
		case valkey.IsValkeyNil(err):
			err, restart = ErrKeyExists, true
		case err != nil:
			// A reply lost (timeout, broken connection) may hide a write that landed:
			// remember the key for cleanup. An error reply (CLUSTERDOWN, OOM, NOPERM) is a
			// refused write: nothing landed, and it is not an "unacknowledged write".
			var ve *valkey.ValkeyError
			// A refused connection, "no node for the slot" and a dial the redirect guard
			// refused sent nothing either.
			if !errors.As(err, &ve) && !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, valkey.ErrNoSlot) &&
				!errors.Is(err, valkeyclient.ErrRedirectLoop) {
				e.remember(s.key)
			}
			restart = true
		}
	case OpRead:
		var v string
		v, err = resp.ToString()
		switch {
		case valkey.IsValkeyNil(err):
			err, restart = ErrSessionLost, true
		case err == nil && v != s.value:
			err, restart = ErrValueMismatch, true
			e.remember(s.key)
		}
	case OpRefresh:
		var n int64
		n, err = resp.AsInt64()
		if err == nil && n == 0 {
			err, restart = ErrSessionLost, true
		}
	case OpDelete:
		var n int64
		n, err = resp.AsInt64()
		switch {
		case err != nil:
			e.remember(s.key)
		case n == 0:
			err = ErrSessionLost
		}
		restart = true
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// Interrupted (Ctrl-C): not the cache's fault, not counted.
		restart = true
		if op == OpCreate || op == OpDelete {
			e.remember(s.key)
		}
	} else {
		st.mu.Lock()
		w := st.cur
		w.ops[op]++
		if err != nil {
			w.errs[op]++
			w.failed.Record(took)
			w.classes[classOf(err)]++
			if msg := sample(op, err); len(w.samples) < errorSamples || w.samples[msg] > 0 {
				w.samples[msg]++
			}
		} else {
			w.hist[op].Record(took)
		}
		st.mu.Unlock()
		if err == nil && !e.succeeded.Load() {
			e.succeeded.Store(true)
		}
	}
	if err != nil && valkeyclient.IsRedirectLoop(err) {
		e.redirectedCommand(err)
	}
	if restart {
		s.key, s.value, s.step = "", "", 0
		return
	}
	s.step++
}

// redirectedCommand counts a command that ended on a redirect (or on a dial the guard
// refused) and stops the traffic once the run is in a redirect loop: the guard refused a
// dial, or more than valkeyclient.MaxRedirectedCommands commands ended on a redirect. Going
// on would measure nothing but the loop.
func (e *engine) redirectedCommand(err error) {
	n := e.redirected.Add(1)
	addr, looped := e.cfg.Guard.Looped()
	if !looped && n <= valkeyclient.MaxRedirectedCommands {
		return
	}
	if !looped {
		addr, _ = valkeyclient.RedirectTarget(err)
	}
	// "Itself" is only known when the client knows one node: the one that answered.
	self := len(e.cfg.Primaries) == 1 && e.cfg.Primaries[0] == addr
	why := valkeyclient.RedirectLoopText(addr, self, !e.succeeded.Load(), n)
	e.loopMu.Lock()
	if e.loop == "" {
		e.loop = why
	}
	e.loopMu.Unlock()
	e.stopRun()
}

func sample(op Op, err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return op.String() + ": " + msg
}

func (e *engine) remember(key string) {
	e.pendMu.Lock()
	defer e.pendMu.Unlock()
	if len(e.pending) < maxPending {
		e.pending = append(e.pending, key)
	}
}

// sessionValue is a session-like JSON document of exactly size bytes (padded), unique per key.
func sessionValue(rng *rand.Rand, key string, size int) string {
	var b strings.Builder
	b.Grow(size)
	fmt.Fprintf(&b, `{"sid":"%016x%016x","key":%s,"user":"synthetic","pad":"`, rng.Uint64(), rng.Uint64(), strconv.Quote(key))
	for b.Len() < size-2 {
		b.WriteByte('x')
	}
	b.WriteString(`"}`)
	s := b.String()
	if len(s) > size {
		// Long keys make the header longer than a small --value-size: keep it unique, cut it.
		s = s[:size]
	}
	return s
}

// collect swaps every stripe's window, merges them into one interval and into the totals.
func (e *engine) collect(spare []*window, agg *aggregate) Interval {
	merged := newWindow()
	for i, st := range e.stripes {
		st.mu.Lock()
		w := st.cur
		st.cur = spare[i]
		st.mu.Unlock()
		merged.merge(w, math.MaxInt) // every message: the run's totals pick errorSamples of them
		w.reset()
		spare[i] = w
	}
	agg.add(merged)
	var all Hist
	iv := Interval{ByOp: map[string]int64{}}
	for op := range numOps {
		all.Merge(&merged.hist[op])
		iv.Ops += merged.ops[op]
		iv.Errors += merged.errs[op]
		iv.ByOp[op.String()] = merged.ops[op]
	}
	iv.Latency = latencyOf(&all)
	iv.Failed, iv.Attempts = failedAndAttempts(&all, &merged.failed)
	if len(merged.classes) > 0 {
		iv.ErrorClasses = map[string]int64{}
		for k, v := range merged.classes {
			iv.ErrorClasses[k] = v
		}
	}
	return iv
}

// cleanup deletes the live sessions and the keys of unacknowledged creates (all under the
// run's prefix, all created or possibly created by the run), then scans every node for the
// prefix.
func (e *engine) cleanup(ctx context.Context) *Cleanup {
	cl := &Cleanup{Prefix: e.keys.Prefix}
	e.pendMu.Lock()
	cl.Live, cl.Unacknowledged = len(e.live), len(e.pending)
	pending := append(append([]string(nil), e.live...), e.pending...)
	e.pendMu.Unlock()
	if len(pending) > 0 {
		n, err := valkeyclient.DeleteKeys(ctx, e.c, pending)
		cl.Deleted += n
		if err != nil {
			cl.fail(valkeyclient.Classify(err, "delete keys of unacknowledged writes"))
			return cl
		}
	}
	pattern := e.keys.Prefix + "*"
	found, complete, scans, err := valkeyclient.ScanPrefix(ctx, e.c, pattern)
	cl.ScanCalls, cl.ScanComplete = scans, complete
	if err != nil {
		cl.fail(valkeyclient.Classify(err, "SCAN MATCH "+pattern))
		return cl
	}
	if len(found) > 0 {
		sort.Strings(found)
		n, err := valkeyclient.DeleteKeys(ctx, e.c, found)
		cl.Deleted += n
		if err != nil {
			cl.fail(valkeyclient.Classify(err, "delete the run's keys"))
			return cl
		}
		again, _, _, err := valkeyclient.ScanPrefix(ctx, e.c, pattern)
		if err != nil {
			cl.fail(valkeyclient.Classify(err, "SCAN MATCH "+pattern))
			return cl
		}
		cl.Remaining = len(again)
	}
	return cl
}

func seconds(d time.Duration) float64 { return float64(d.Microseconds()) / 1e6 }
