package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

// preChecks are the validator checks watch and probe run before any traffic: they give a
// failure its class and its fix (and catch the silent single-node fallback) instead of a
// stream of identical command errors.
var preChecks = []string{"dns", "tcp", "tls", "auth", "cluster-mode"}

// Bounds of the traffic flags.
const (
	maxDuration     = 24 * time.Hour
	maxRate         = 100000
	maxConcurrency  = 1000
	maxConnsPerNode = 256
	minInterval     = 100 * time.Millisecond
	// minDialTimeout is the least a TCP+TLS connect gets, whatever --op-timeout says.
	minDialTimeout = 250 * time.Millisecond
)

// trafficFlags are the flags watch and probe share.
type trafficFlags struct {
	duration     time.Duration
	rate         int
	concurrency  int
	connsPerNode int
	interval     time.Duration
	opTimeout    time.Duration
	valueSize    int
	sla          watch.SLA
	// cleanupTimeout and sessionsPerWorker are not flags: watch takes the engine's defaults;
	// probe a short cleanup (an answer must not wait on a stalled node; its keys expire with
	// their TTL) and few sessions (a short sample still goes through whole lifecycles).
	cleanupTimeout    time.Duration
	sessionsPerWorker int
}

// addTrafficFlags defines the traffic and SLA flags with the command's defaults in t.
func addTrafficFlags(fs *flag.FlagSet, t *trafficFlags) {
	fs.Var(durationFlag{v: &t.duration}, "duration", fmt.Sprintf("how long to send traffic (`duration`, default %v, at most %v)", t.duration, maxDuration))
	fs.Var(rateFlag{intFlag{&t.rate, 0, maxRate}, &t.sla.Rate}, "rate", fmt.Sprintf("commands per second over all workers (`n`, default %d; 0 = as fast as the workers go); the verdict fails below %.0f%% of it unless --allow-under-rate", t.rate, watch.MinRateShare*100))
	t.sla.Rate = float64(t.rate)
	fs.BoolVar(&t.sla.AllowUnderRate, "allow-under-rate", false, fmt.Sprintf("accept a run that offered less than %.0f%% of --rate (the verdict says so)", watch.MinRateShare*100))
	fs.Var(intFlag{&t.concurrency, 1, maxConcurrency}, "concurrency", fmt.Sprintf("workers, each with one command in flight (`n`, default %d)", t.concurrency))
	fs.Var(powerOfTwoFlag{&t.connsPerNode, maxConnsPerNode}, "conns-per-node", "TLS connections per node the workers' commands are pipelined over (`n`: 1, 2, 4 ... 256; default 1)")
	fs.Var(durationFlag{v: &t.interval}, "interval", fmt.Sprintf("reporting interval (`duration`, default %v)", t.interval))
	fs.Var(durationFlag{v: &t.opTimeout}, "op-timeout", fmt.Sprintf("a command slower than this counts as an error (`duration`, default %v)", t.opTimeout))
	fs.Var(intFlag{&t.valueSize, 16, 65536}, "value-size", fmt.Sprintf("session value size in bytes (`n`, default %d)", t.valueSize))
	fs.Var(optDurationFlag(&t.sla.P50), "sla-p50", "SLA: p50 latency at most `duration` (default 0: not checked)")
	fs.Var(optDurationFlag(&t.sla.P99), "sla-p99", fmt.Sprintf("SLA: p99 latency at most `duration` (default %v; 0: not checked)", t.sla.P99))
	fs.Var(optDurationFlag(&t.sla.Max), "sla-max", "SLA: slowest successful command at most `duration` (default 0: not checked)")
	fs.Var(fractionFlag{&t.sla.ErrorRate}, "sla-error-rate", fmt.Sprintf("SLA: at most this share of commands may fail (`rate` as 0.1%% or 0.001; default %s)", strconv.FormatFloat(t.sla.ErrorRate*100, 'f', -1, 64)+"%"))
}

// validate checks what one flag alone cannot.
func (t trafficFlags) validate() error {
	switch {
	case t.duration > maxDuration:
		return fmt.Errorf("--duration %v: want at most %v", t.duration, maxDuration)
	case t.interval < minInterval:
		return fmt.Errorf("--interval %v: want at least %v", t.interval, minInterval)
	case t.interval > t.duration:
		return fmt.Errorf("--interval %v: want at most --duration (%v)", t.interval, t.duration)
	case t.rate > 0 && t.rate < t.concurrency:
		return fmt.Errorf("--rate %d: want at least --concurrency (%d) commands per second, or 0 for unpaced", t.rate, t.concurrency)
	}
	return nil
}

func (t trafficFlags) engineConfig(d time.Duration) watch.Config {
	return watch.Config{Duration: d, Rate: t.rate, Concurrency: t.concurrency, Interval: t.interval,
		OpTimeout: t.opTimeout, ValueSize: t.valueSize, CleanupTimeout: t.cleanupTimeout, SessionsPerWorker: t.sessionsPerWorker}
}

func (t trafficFlags) evidence() map[string]any {
	// connections and keySpread are fixed (the workers' commands pipelined over connsPerNode
	// connections per node; every session its own hash tag, so traffic reaches every slot and
	// shard): recorded so the evidence says how the load was offered.
	m := map[string]any{
		"duration": t.duration.String(), "rate": t.rate, "concurrency": t.concurrency, "connsPerNode": t.connsPerNode, "connections": "pipelined",
		"interval": t.interval.String(), "opTimeout": t.opTimeout.String(), "valueSize": t.valueSize, "keySpread": "session",
		"sessionTTL": watch.DefaultSessionTTL.String(), "sessionsPerWorker": cmp.Or(t.sessionsPerWorker, watch.DefaultSessionsPerWorker),
		"mix": watch.Mix(), "lifecycle": lifecycleNames(),
		"sla": map[string]any{"p50": t.sla.P50.String(), "p99": t.sla.P99.String(), "max": t.sla.Max.String(), "errorRate": t.sla.ErrorRate},
	}
	return m
}

func lifecycleNames() []string {
	var out []string
	for _, op := range watch.Lifecycle {
		out = append(out, op.String())
	}
	return out
}

// trafficRun is one watch or probe run: the pre-checks, then the traffic.
type trafficRun struct {
	kind   string
	o      options
	tf     trafficFlags
	tg     *target.Target
	d      deps
	stdout io.Writer
	// live says whether pre-check and interval lines are printed as they happen.
	live bool
	// budget is the time the whole run may take before cleanup (probe: its --duration, which
	// the pre-checks eat into); 0 means pre-checks get their own deadline and traffic gets
	// all of --duration (watch).
	budget time.Duration
}

// run fills the evidence: header, pre-checks and, when they passed, the traffic's Outcome.
// failed is the first failed pre-check (or a connect failure), nil when traffic ran.
func (r *trafficRun) run(ctx context.Context) (ev *watch.Evidence, failed *report.Result) {
	now := r.d.now
	if now == nil {
		now = time.Now
	}
	started := now()
	env := &checks.Env{Target: r.tg, Version: toolVersion(), RunID: checks.NewRunID(), Resolver: r.d.resolver}
	opts := targetOptionsEvidence(r.o, r.tg, env)
	for k, v := range r.tf.evidence() {
		opts[k] = v
	}
	if c, ok := opts["client"].(map[string]any); ok {
		c["connsPerNode"] = r.tf.connsPerNode
		c["disableRetry"] = true
		c["disableAutoPipelining"] = false
	}
	ev = &watch.Evidence{
		SchemaVersion: watch.SchemaVersion, Kind: r.kind,
		Tool:  report.Tool{Name: toolName, Version: toolVersion(), GoVersion: goVersion()},
		RunID: env.RunID, KeyPrefix: env.Prefix(), StartedAt: started.UTC(),
		Target: report.Target{Endpoint: r.tg.Addr(), OutputsFile: r.tg.Source.OutputsFile, Stack: r.tg.Source.Stack,
			Outputs: r.tg.Source.Outputs},
		Options: opts,
	}
	if r.tg.InsecurePlaintext {
		ev.Warnings = append(ev.Warnings, insecureWarning)
	}
	runner := &checks.Runner{Checks: checks.Subset(preChecks...), Now: now, BeforeCheck: r.d.beforeCheck,
		OnResult: func(res report.Result) {
			if r.live {
				report.LiveLine(r.stdout, res)
			}
		}}
	// The read port is checked alongside (its checks must not eat the probe's budget, and a
	// fault there is a warning line, never the primary's verdict).
	readerDone := make(chan []report.Result, 1)
	if r.tg.ReaderAddr() != "" {
		renv := &checks.Env{Target: r.tg, Version: toolVersion(), RunID: env.RunID, Resolver: r.d.resolver}
		rtg := *r.tg
		rtg.Timeout = min(r.tf.duration, 10*time.Second)
		renv.Target = &rtg
		go func() {
			readerDone <- (&checks.Runner{Checks: checks.Subset("reader-tcp", "reader-tls"), Now: now}).Run(ctx, renv)
		}()
	} else {
		readerDone <- nil
	}
	defer func() {
		ev.ReaderChecks = <-readerDone
		for _, rc := range ev.ReaderChecks {
			if rc.Status == report.Fail {
				ev.Warnings = append(ev.Warnings, fmt.Sprintf("read port %s: %s failed (%s): %s; read-port health only, never the primary's verdict",
					r.tg.ReaderAddr(), rc.Name, rc.ErrorClass, rc.Detail))
			}
		}
	}()
	ev.PreChecks = runner.Run(ctx, env) // closes the checks' client
	if env.Server.ClientMode != "" {
		s := env.Server
		ev.Server = &s
	}
	for i := range ev.PreChecks {
		if ev.PreChecks[i].Status == report.Fail {
			return ev, &ev.PreChecks[i]
		}
	}

	trafficFor := r.tf.duration
	if r.budget > 0 {
		trafficFor = max(r.budget-now().Sub(started), r.tf.interval, time.Second)
	}
	opt := env.ClientOption(r.tg.Addr())
	opt.PipelineMultiplex = bits.Len(uint(r.tf.connsPerNode)) - 1
	// valkey-go makes commands wait for a connection being dialed regardless of their context:
	// a dial bounded by the op timeout keeps a stalled node from stalling workers for longer.
	opt.Dialer.Timeout = min(opt.Dialer.Timeout, max(r.tf.opTimeout, minDialTimeout))
	if c, ok := ev.Options["client"].(map[string]any); ok {
		c["dialTimeout"] = opt.Dialer.Timeout.String()
	}
	dials := &watch.DialCounter{PerNode: r.tf.connsPerNode}
	dials.Wrap(&opt)
	cctx, cancel := context.WithTimeout(ctx, valkeyclient.DialTimeout+valkeyclient.ConnWriteTimeout)
	// The guard wraps the counter: a dial it refuses (a redirect loop) never reaches the node
	// and is not counted as a failed connection attempt.
	c, guard, err := valkeyclient.NewGuardedClient(cctx, opt)
	cancel()
	if err != nil {
		p := valkeyclient.Classify(err, "connect for traffic to "+r.tg.Addr())
		res := report.Result{Name: "connect", Status: report.Fail, Detail: p.Msg, ErrorClass: p.Class, Fix: p.Fix, StartedAt: now().UTC()}
		ev.PreChecks = append(ev.PreChecks, res)
		return ev, &ev.PreChecks[len(ev.PreChecks)-1]
	}
	defer c.Close()
	// Primary traffic touches primaries only: a stalled read port is not "part of the keyspace".
	primaries, readOnly := valkeyclient.Roles(ctx, c, r.tg.ReaderPort)
	dials.ReadOnly = map[string]bool{}
	for _, a := range readOnly {
		dials.ReadOnly[a] = true
	}
	cfg := r.tf.engineConfig(trafficFor)
	cfg.Primaries = primaries
	cfg.Guard = guard
	if r.kind == "watch" && r.tg.ReaderAddr() != "" {
		ropt := env.ClientOption(r.tg.ReaderAddr())
		// A cluster client that sends its reads to the slots' replicas (ReplicaOnly: READONLY
		// on every connection at connect): on serverless the replica is the read port, so the
		// reads are served there, not redirected to the primary. It only ever reads.
		ropt.ReplicaOnly = true
		ropt.Dialer.Timeout = opt.Dialer.Timeout
		rctx, rcancel := context.WithTimeout(ctx, valkeyclient.DialTimeout)
		rc, err := valkeyclient.NewClientWith(rctx, ropt)
		rcancel()
		if err != nil {
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("read port %s: no reads sent through it: %s", r.tg.ReaderAddr(), valkeyclient.Classify(err, "connect").Msg))
		} else {
			defer rc.Close()
			cfg.Reader, cfg.ReaderAddr = rc, r.tg.ReaderAddr()
		}
	}
	if r.live {
		fmt.Fprintf(r.stdout, "traffic: %s for %v, %d worker(s), %d pipelined connection(s) per node over %d node(s); mix %s\n",
			rateText(r.tf.rate), trafficFor.Round(time.Millisecond), r.tf.concurrency, r.tf.connsPerNode, len(c.Nodes()), mixText())
	}
	keys := watch.Keys{Key: env.Key, Prefix: env.Prefix()}
	hooks := watch.Hooks{Now: r.d.now}
	if r.live {
		hooks.OnInterval = func(iv watch.Interval) { fmt.Fprintln(r.stdout, iv.Line()) }
	}
	ev.Outcome = watch.Run(ctx, c, cfg, keys, dials, hooks)
	if dials.ReadOnlyFailures > 0 {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("%d connection attempt(s) to the read-port node(s) %s failed (read-port health only)",
			dials.ReadOnlyFailures, strings.Join(readOnly, ", ")))
	}
	return ev, nil
}

// finish stamps the end and writes the evidence files; a write failure is exit 2.
func (r *trafficRun) finish(ev *watch.Evidence, stderr io.Writer) (paths []string, code int) {
	now := r.d.now
	if now == nil {
		now = time.Now
	}
	ev.FinishedAt = now().UTC()
	ev.DurationMs = report.Ms(ev.FinishedAt.Sub(ev.StartedAt))
	if r.o.evidenceDir == "" {
		return nil, 0
	}
	paths, err := watch.WriteEvidence(r.o.evidenceDir, ev)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
		return paths, contract.ExitUsage
	}
	return paths, 0
}

// printOutcome prints the totals, the SLA lines and the cleanup line.
func printOutcome(w io.Writer, ev *watch.Evidence, tf trafficFlags) {
	if ev.Outcome != nil {
		for _, l := range ev.Total.Lines(tf.rate) {
			fmt.Fprintln(w, l)
		}
	}
	for _, c := range ev.SLA {
		fmt.Fprintln(w, c.Text)
	}
	if ev.Outcome != nil && ev.Cleanup != nil {
		fmt.Fprintln(w, ev.Cleanup.Text(watch.DefaultSessionTTL))
	}
	if ev.Outcome != nil && ev.Reader != nil {
		fmt.Fprintln(w, ev.Reader.Line())
	}
}

// rateFlag is --rate: the pacing (intFlag) and the SLA's requested load.
type rateFlag struct {
	intFlag
	sla *float64
}

func (f rateFlag) Set(s string) error {
	if err := f.intFlag.Set(s); err != nil {
		return err
	}
	*f.sla = float64(*f.intFlag.v)
	return nil
}

func rateText(rate int) string {
	if rate == 0 {
		return "unpaced (as fast as the workers go)"
	}
	return fmt.Sprintf("%d commands/s", rate)
}

func mixText() string {
	m := watch.Mix()
	var parts []string
	for _, op := range watch.OpNames {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", op, m[op]*100))
	}
	return strings.Join(parts, ", ") + " (SET NX PX, GET, PEXPIRE, DEL)"
}

// Flag types of the traffic flags.

// optDurationFlag is a duration where 0 (or "off") switches the check off.
func optDurationFlag(v *time.Duration) durationFlag { return durationFlag{v: v, off: true} }

// fractionFlag is a share: "0.1%" or "0.001".
type fractionFlag struct{ v *float64 }

func (f fractionFlag) String() string {
	return flagString(f.v, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) })
}
func (f fractionFlag) Set(s string) error {
	div := 1.0
	num := s
	if strings.HasSuffix(s, "%") {
		num, div = strings.TrimSuffix(s, "%"), 100
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v/div < 0 || v/div > 1 {
		return errors.New("want a share between 0 and 1 (0.001) or a percentage (0.1%)")
	}
	*f.v = v / div
	return nil
}

// powerOfTwoFlag is 1, 2, 4 ... max (valkey-go opens 2^PipelineMultiplex connections per node).
type powerOfTwoFlag struct {
	v   *int
	max int
}

func (f powerOfTwoFlag) String() string { return flagString(f.v, strconv.Itoa) }
func (f powerOfTwoFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > f.max || n&(n-1) != 0 {
		return fmt.Errorf("want a power of two 1..%d", f.max)
	}
	*f.v = n
	return nil
}
