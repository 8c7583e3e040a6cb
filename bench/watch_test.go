package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

// mixCommand is one command of the session mix as valkey-benchmark runs it: "{tag}" is the
// placeholder valkey-benchmark --cluster replaces, for every command, with the hash tag of a
// random slot of the client's node; "__rand_int__" the one -r replaces with a random number.
type mixCommand struct {
	op   string
	args func(prefix, value string) []string
	// fresh: a key of its own for every command (a random 9-digit suffix): SET NX then always
	// creates, as every create of watch does. Otherwise the command runs on the filled keyspace,
	// one key per slot tag.
	fresh bool
}

var mixCommands = []mixCommand{
	{"create", func(p, v string) []string { return []string{"SET", p + "new:__rand_int__", v, "NX", "PX", "600000"} }, true},
	{"read", func(p, _ string) []string { return []string{"GET", p + "s"} }, false},
	{"refresh", func(p, _ string) []string { return []string{"PEXPIRE", p + "s", "600000"} }, false},
	{"delete", func(p, _ string) []string { return []string{"DEL", p + "s"} }, false},
}

// fillCommand fills the keyspace the reads, refreshes and deletes run on, untimed.
var fillCommand = mixCommand{"fill", func(p, v string) []string { return []string{"SET", p + "s", v, "PX", "600000"} }, false}

// The keyspace of the filled runs: one key per slot tag; filled with fillFactor x that many SETs
// at random tags (1 - e^-5: 99.3% of the keys). Deletes run at most keyspace/2 commands (about
// 79% of them find their key: the keyspace cannot hold a key for each of tens of thousands), the
// run then stands for all of watch's deletes.
const (
	keyspace   = 16384
	fillFactor = 5
)

// benchmark is valkey-benchmark running n of mc against the first node of c with conns clients,
// one command each (-P 1), keys under prefix.
func (mc mixCommand) benchmark(c *valkeytest.Cluster, conns, n int, prefix, value string) *exec.Cmd {
	n0 := c.Nodes[0]
	args := []string{"-h", n0.Host, "-p", strconv.Itoa(n0.Port), "--tls", "--cacert", c.CA.CertFile, "--sni", "localhost",
		"--user", valkeytest.AppUser, "-a", valkeytest.AppPassword, "--cluster", "-c", strconv.Itoa(conns), "-P", "1",
		"-n", strconv.Itoa(n), "--precision", "3"}
	if mc.fresh {
		args = append(args, "-r", "1000000000")
	}
	return exec.Command("valkey-benchmark", append(args, mc.args(prefix, value)...)...)
}

// benchMixResult is valkey-benchmark's run of the session mix.
type benchMixResult struct {
	runs       []benchRun // by mixCommands, each n the count it stands for
	rps        float64    // all commands over the runs' summed time
	avg        float64    // mean latency, ms
	p50, p99   float64
	work       string // what the commands found: the work they did, and how they ran
	concurrent bool   // the creates, reads and refreshes ran at once
}

// inFlight is valkey-benchmark's commands in flight on average (Little's law over the runs).
func (b benchMixResult) inFlight() float64 { return b.rps * b.avg / 1000 }

// benchMix runs counts[i] commands of mixCommands[i] through valkey-benchmark (which runs one
// command per invocation), doing the work watch's commands do: the keyspace is filled first
// (untimed) so that GET returns 256 bytes and PEXPIRE lands, and every SET NX creates a new key
// (on a full keyspace it would write nothing and replicate nothing: a discount this mix had
// before, ~46% of its creates and ~60% of its deletes). The creates, reads and refreshes run at
// once when conns can be shared among them in their proportions (concurrentSplit), so the server
// sees them interleaved as it sees watch's, not a GET-only stretch that runs faster than GETs
// among writes; otherwise, and for the deletes (they empty the keyspace the reads need), one
// kind after the other. It reports the work found, from the key counts.
func benchMix(t *testing.T, c *valkeytest.Cluster, conns int, counts []int, value string) benchMixResult {
	t.Helper()
	prefix := fmt.Sprintf("valkey-dr:bench:{tag}:%s:", checks.NewRunID())
	type job struct {
		mc          mixCommand
		i, conns, n int // i: its index in mixCommands (and r.runs)
		cmd         *exec.Cmd
		out         bytes.Buffer
	}
	// runAll runs the jobs at once and returns each one's run and the longest of their times.
	runAll := func(jobs []*job) ([]benchRun, float64) {
		for _, j := range jobs {
			j.cmd = j.mc.benchmark(c, j.conns, j.n, prefix, value)
			j.cmd.Stdout, j.cmd.Stderr = &j.out, &j.out
			if err := j.cmd.Start(); err != nil {
				t.Fatalf("valkey-benchmark %s: %v", j.mc.op, err)
			}
		}
		var runs []benchRun
		longest := 0.0
		for _, j := range jobs {
			if err := j.cmd.Wait(); err != nil {
				t.Fatalf("valkey-benchmark %v: %v\n%s", j.cmd.Args[1:], err, j.out.Bytes())
			}
			br := parseBenchmark(t, j.out.Bytes())
			runs = append(runs, br)
			longest = max(longest, float64(j.n)/br.rps)
		}
		return runs, longest
	}
	before := valkeytest.DBSize(t, c)
	runAll([]*job{{mc: fillCommand, conns: conns, n: fillFactor * keyspace}})
	filled := valkeytest.DBSize(t, c) - before

	var r benchMixResult
	r.runs = make([]benchRun, len(mixCommands))
	var secs, latSum float64
	total := 0
	found := map[string]float64{}
	// phases: the kinds that run at once, in order.
	var phases [][]*job
	split := concurrentSplit(conns, counts)
	r.concurrent = split != nil
	for i, mc := range mixCommands {
		n := counts[i]
		if mc.op == "delete" {
			n = min(n, keyspace/2) // a sample: it stands for all of watch's deletes
		}
		j := &job{mc: mc, i: i, conns: conns, n: n}
		if split != nil && i < len(split) {
			j.conns = split[i]
			if i > 0 {
				phases[0] = append(phases[0], j)
				continue
			}
		}
		phases = append(phases, []*job{j})
	}
	for _, ph := range phases {
		keys0 := valkeytest.DBSize(t, c)
		runs, longest := runAll(ph)
		// Per command of watch's counts: a sample (the deletes) stands for all of them.
		ran, stands := 0, 0
		for k, j := range ph {
			ran += j.n
			stands += counts[j.i]
			br := runs[k]
			br.n = counts[j.i]
			r.runs[j.i] = br
			latSum += float64(br.n) * br.avg
			total += br.n
		}
		secs += longest * float64(stands) / float64(ran)
		switch ph[0].mc.op {
		case "create": // reads and refreshes leave the key count alone
			found["create"] = float64(valkeytest.DBSize(t, c)-keys0) / float64(ph[0].n)
		case "delete":
			found["delete"] = float64(keys0-valkeytest.DBSize(t, c)) / float64(ph[0].n)
		}
	}
	r.rps = float64(total) / secs
	r.avg = latSum / float64(total)
	r.p50, r.p99 = mixQuantile(r.runs, 0.50), mixQuantile(r.runs, 0.99)
	r.work = fmt.Sprintf("valkey-benchmark's work: %.1f%% of its creates made a key, reads and refreshes found %.1f%% of the keys (filled untimed), %.1f%% of its deletes removed one (watch's: all, except a session lost)",
		100*found["create"], 100*float64(filled)/keyspace, 100*found["delete"])
	if r.concurrent {
		r.work += fmt.Sprintf("; creates, reads and refreshes ran at once on %v of the %d connections, the deletes after them", split, conns)
	} else {
		r.work += fmt.Sprintf("; one command kind after the other (%d connections cannot be shared in the mix's proportions)", conns)
	}
	return r
}

// concurrentSplit shares conns among the creates, reads and refreshes (mixCommands[0:3]) in
// proportion to their counts so that they can run at once: every kind at least one connection,
// and every connection about as many commands (within 10%) so that they end together, not one
// kind alone at the end. nil when conns cannot be shared so (a few connections: 4 cannot hold
// 1:6:2).
func concurrentSplit(conns int, counts []int) []int {
	const kinds = 3
	sum := 0
	for _, n := range counts[:kinds] {
		sum += n
	}
	if sum == 0 || conns < kinds {
		return nil
	}
	split := make([]int, kinds)
	given, largest := 0, 0
	for i, n := range counts[:kinds] {
		split[i] = int(math.Round(float64(conns) * float64(n) / float64(sum)))
		given += split[i]
		if n > counts[largest] {
			largest = i
		}
	}
	split[largest] += conns - given
	lo, hi := math.Inf(1), 0.0
	for i, k := range split {
		if k < 1 {
			return nil
		}
		per := float64(counts[i]) / float64(k)
		lo, hi = min(lo, per), max(hi, per)
	}
	if hi > 1.1*lo {
		return nil
	}
	return split
}

// point is one (latency, cumulative share) point of valkey-benchmark's latency distribution.
type point struct{ ms, cum float64 }

type benchRun struct {
	n             int
	rps           float64
	p50, p99, avg float64
	dist          []point
}

var (
	distLine    = regexp.MustCompile(`^\s*([0-9.]+)% <= ([0-9.]+) milliseconds`)
	rpsLine     = regexp.MustCompile(`throughput summary: ([0-9.]+) requests per second`)
	summaryHead = regexp.MustCompile(`^\s*avg\s+min\s+p50\s+p95\s+p99\s+max\s*$`)
)

// parseBenchmark reads valkey-benchmark's human output: throughput, the latency summary and
// both distribution tables (they become one cumulative distribution).
func parseBenchmark(t *testing.T, out []byte) benchRun {
	t.Helper()
	var r benchRun
	lines := strings.FieldsFunc(string(out), func(c rune) bool { return c == '\n' || c == '\r' })
	for i, l := range lines {
		if m := distLine.FindStringSubmatch(l); m != nil {
			pct, _ := strconv.ParseFloat(m[1], 64)
			ms, _ := strconv.ParseFloat(m[2], 64)
			r.dist = append(r.dist, point{ms, pct / 100})
		}
		if m := rpsLine.FindStringSubmatch(l); m != nil {
			r.rps, _ = strconv.ParseFloat(m[1], 64)
		}
		if summaryHead.MatchString(l) && i+1 < len(lines) {
			f := strings.Fields(lines[i+1])
			if len(f) == 6 {
				r.avg, _ = strconv.ParseFloat(f[0], 64)
				r.p50, _ = strconv.ParseFloat(f[2], 64)
				r.p99, _ = strconv.ParseFloat(f[4], 64)
			}
		}
	}
	if r.rps == 0 || r.p50 == 0 || len(r.dist) < 3 {
		t.Fatalf("valkey-benchmark output not understood:\n%s", out)
	}
	sort.Slice(r.dist, func(i, j int) bool {
		if r.dist[i].ms != r.dist[j].ms {
			return r.dist[i].ms < r.dist[j].ms
		}
		return r.dist[i].cum < r.dist[j].cum
	})
	return r
}

// cdf is the run's cumulative distribution at x, interpolated linearly between its points.
func (r benchRun) cdf(x float64) float64 {
	d := r.dist
	if x < d[0].ms {
		return 0
	}
	for i := 1; i < len(d); i++ {
		if x < d[i].ms {
			a, b := d[i-1], d[i]
			return a.cum + (b.cum-a.cum)*(x-a.ms)/(b.ms-a.ms)
		}
	}
	return 1
}

// mixQuantile is quantile q of the mixture of the runs' distributions, weighted by their
// command counts: the latency distribution of the whole mix, as if it had run in one process.
func mixQuantile(runs []benchRun, q float64) float64 {
	total := 0
	hi := 0.0
	for _, r := range runs {
		total += r.n
		hi = math.Max(hi, r.dist[len(r.dist)-1].ms)
	}
	f := func(x float64) float64 {
		s := 0.0
		for _, r := range runs {
			s += float64(r.n) / float64(total) * r.cdf(x)
		}
		return s
	}
	lo := 0.0
	for range 60 {
		mid := (lo + hi) / 2
		if f(mid) >= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

type watchResult struct {
	opsPerSec, p50, p99, mean float64
	byOp                      map[string]watch.OpTotals
}

// inFlight is the commands a run kept in flight on average (Little's law: rate x mean latency).
func (w watchResult) inFlight() float64 { return w.opsPerSec * w.mean / 1000 }

// The targets for watch against valkey-benchmark (issue 14 item 6): ops/s at least
// valkey-benchmark's, p50 and p99 at most 15% above it (lower latency is better).
const (
	targetOps = 1.0
	targetP50 = 1.15
	targetP99 = 1.15
)

// judge is the verdict on watch's ratios to valkey-benchmark: "MET" only if every target is
// met, otherwise "MISSED: " and each target missed; met reports the same as a bool.
func judge(ops, p50, p99 float64) (verdict string, met bool) {
	var missed []string
	if !(ops >= targetOps) {
		missed = append(missed, fmt.Sprintf("ops/s %sx < %.2fx", ratioText(ops, targetOps), targetOps))
	}
	if !(p50 <= targetP50) {
		missed = append(missed, fmt.Sprintf("p50 %sx > %.2fx", ratioText(p50, targetP50), targetP50))
	}
	if !(p99 <= targetP99) {
		missed = append(missed, fmt.Sprintf("p99 %sx > %.2fx", ratioText(p99, targetP99), targetP99))
	}
	if len(missed) == 0 {
		return "MET", true
	}
	return "MISSED: " + strings.Join(missed, ", "), false
}

// noiseLimit is how far valkey-benchmark's own ops/s may vary between the rounds (max/min) for
// a verdict to stand: beyond it this host's speed moved more than the targets' margins, and a
// MET or MISSED would be the host's.
const noiseLimit = 1.5

// conclude is the verdict on the rounds' ratios, or INCONCLUSIVE with the verdict it would be
// when valkey-benchmark's ops/s (benchOps, one per round) varied by more than noiseLimit.
func conclude(verdict string, benchOps []float64) string {
	if len(benchOps) < 2 {
		return verdict + " (one round: the host's noise is not known; ROUNDS=3 or more)"
	}
	lo, hi := slices.Min(benchOps), slices.Max(benchOps)
	if !(lo > 0) || hi/lo > noiseLimit {
		return fmt.Sprintf("INCONCLUSIVE: this host's speed moved during the run (valkey-benchmark's ops/s %.0f-%.0f between rounds, %.1fx > %.1fx); rerun on a quiet machine (it would read %s)",
			lo, hi, hi/lo, noiseLimit, verdict)
	}
	return verdict
}

// ratioText is r with two decimals, or three where two would print the target it missed
// ("0.998x < 1.00x", not "1.00x < 1.00x").
func ratioText(r, target float64) string {
	if s := fmt.Sprintf("%.2f", r); s != fmt.Sprintf("%.2f", target) {
		return s
	}
	return fmt.Sprintf("%.3f", r)
}

// round is one round: valkey-benchmark's run of the mix, then watch's defaults with as many
// workers as valkey-benchmark kept commands in flight (judged) and with conns workers (the run
// that gave the command counts, just before valkey-benchmark's; printed, not judged).
type round struct {
	judged, nominal watchResult
	bRPS            float64
	bP50, bP99      float64
	bInFlight       float64 // valkey-benchmark's commands in flight on average (rps x mean latency)
	bRuns           map[string]benchRun
}

func medianF(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// runWatch runs the real binary unpaced with its default client settings and workers workers
// and returns its totals.
func runWatch(t *testing.T, bin string, c *valkeytest.Cluster, duration string, workers int) watchResult {
	t.Helper()
	n0 := c.Nodes[0]
	cmd := exec.Command(bin, "watch", "--endpoint", n0.Addr, "--tls-server-name", "localhost", "--ca-file", c.CA.CertFile,
		"--user", valkeytest.AppUser, "--duration", duration, "--rate", "0", "--concurrency", strconv.Itoa(workers),
		"--sla-p99", "0", "--sla-error-rate", "100%", "--format", "json")
	cmd.Env = append(os.Environ(), "VALKEY_PASSWORD="+valkeytest.AppPassword)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("watch: %v\n%s\n%s", err, stderr.String(), out.String())
	}
	var ev watch.Evidence
	if err := json.Unmarshal(out.Bytes(), &ev); err != nil || ev.Outcome == nil {
		t.Fatalf("watch output: %v", err)
	}
	if ev.Total.Errors != 0 {
		t.Fatalf("watch had %d errors: %v", ev.Total.Errors, ev.Total.ErrorSamples)
	}
	return watchResult{opsPerSec: ev.Total.OpsPerSec, p50: ev.Total.P50Ms, p99: ev.Total.P99Ms, mean: ev.Total.MeanMs, byOp: ev.Total.ByOp}
}

func TestWatchBench(t *testing.T) {
	if os.Getenv("VALKEY_DR_BENCH") != "1" {
		t.Skip("benchmark: run bench/watch.sh (sets VALKEY_DR_BENCH=1)")
	}
	rounds, _ := strconv.Atoi(os.Getenv("ROUNDS"))
	rounds = max(rounds, 1)
	duration := os.Getenv("DURATION")
	if duration == "" {
		duration = "8s"
	}
	connsList := strings.Fields(os.Getenv("CONNS"))
	c := startTopology(t)
	bin := buildValidator(t)
	masters := len(masterNodes(c))
	if len(connsList) == 0 {
		// A few, about 8 (the fewest connections the mix's creates, reads and refreshes can
		// share 1:6:2 to run at once), and many in flight.
		connsList = map[int][]string{1: {"4", "9", "64"}, 3: {"3", "48"}}[masters]
	}
	for _, cs := range connsList {
		conns, err := strconv.Atoi(cs)
		perNode := conns / masters
		if err != nil || conns%masters != 0 || perNode < 1 {
			t.Fatalf("CONNS=%q: want a positive multiple of %d (valkey-benchmark --cluster: as many clients on each of the %d master(s))", cs, masters, masters)
		}
		benchOne(t, c, bin, conns, rounds, duration)
	}
}

// startTopology starts the TLS cluster TOPOLOGY names: serverless (default: what the product
// runs against: one master owning every slot, its replica the read port) or cluster
// (3 masters).
func startTopology(t *testing.T) *valkeytest.Cluster {
	t.Helper()
	switch topo := os.Getenv("TOPOLOGY"); topo {
	case "", "serverless":
		return valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	case "cluster":
		return valkeytest.StartCluster(t, valkeytest.Options{TLS: true})
	default:
		t.Fatalf("TOPOLOGY=%q: want serverless or cluster", topo)
		return nil
	}
}

// masterNodes are the nodes that own slots: 3 in the cluster, 1 in the serverless shape.
func masterNodes(c *valkeytest.Cluster) []*valkeytest.Server {
	if c.Topology == localvalkey.TopologyServerless {
		return c.Nodes[:1]
	}
	return c.Nodes
}

// benchOne compares watch's defaults and valkey-benchmark -c conns, rounds times.
//
// In flight: valkey-benchmark -c N -P 1 does not keep N commands in flight. Its one thread
// writes a client's next command on the event loop's next turn after the reply, and that wait
// is in neither its latency nor its in-flight count: by Little's law (in flight = rate x mean
// latency) -c 64 keeps ~50 in flight on this host, -c 4 ~3. A watch worker sends its next
// command at once: --concurrency N keeps N in flight (rate x mean = N, printed). The judged run
// is therefore watch with as many workers as valkey-benchmark's measured in-flight average
// (rounded); watch with N workers is printed beside it.
func benchOne(t *testing.T, c *valkeytest.Cluster, bin string, conns, rounds int, duration string) {
	masters := len(masterNodes(c))
	perNode := conns / masters
	shape := fmt.Sprintf("%d-master TLS cluster", masters)
	if masters == 1 {
		shape = "serverless-shape TLS cluster (1 master owning every slot + its replica, unused here)"
	}
	fmt.Printf("\n== valkey-benchmark -c %d (%d clients, one command each; %d per node)\n", conns, conns, perNode)
	value := strings.Repeat("x", watch.DefaultValueSize)
	var rs []round
	concurrent := false
	for i := range rounds {
		var r round
		// 1. watch's defaults with conns workers: the command counts valkey-benchmark sends.
		r.nominal = runWatch(t, bin, c, duration, conns)

		// 2. valkey-benchmark: as many commands of each kind as that watch sent (benchMix: at
		//    once where CONNS can be shared 1:6:2), CONNS connections, no pipelining.
		counts := make([]int, len(mixCommands))
		for k, mc := range mixCommands {
			counts[k] = int(r.nominal.byOp[mc.op].Ops)
		}
		bm := benchMix(t, c, conns, counts, value)
		concurrent = bm.concurrent
		if i == 0 {
			fmt.Println(bm.work)
		}
		r.bRuns = map[string]benchRun{}
		for k, mc := range mixCommands {
			r.bRuns[mc.op] = bm.runs[k]
		}
		r.bRPS, r.bP50, r.bP99, r.bInFlight = bm.rps, bm.p50, bm.p99, bm.inFlight()

		// 3. watch's defaults with valkey-benchmark's in-flight average as workers: judged.
		r.judged = runWatch(t, bin, c, duration, max(1, int(math.Round(r.bInFlight))))
		rs = append(rs, r)
		fmt.Printf("round %d: valkey-benchmark %7.0f ops/s p50 %.3fms p99 %.3fms in flight %.1f", i+1, r.bRPS, r.bP50, r.bP99, r.bInFlight)
		for _, w := range []watchResult{r.judged, r.nominal} {
			fmt.Printf(" | watch %7.0f ops/s p50 %.3fms p99 %.3fms in flight %.1f", w.opsPerSec, w.p50, w.p99, w.inFlight())
		}
		fmt.Println()
	}

	col := func(f func(round) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return medianF(v)
	}
	bOps, bP50, bP99 := col(func(r round) float64 { return r.bRPS }), col(func(r round) float64 { return r.bP50 }), col(func(r round) float64 { return r.bP99 })
	bIn := col(func(r round) float64 { return r.bInFlight })
	// The ratios are the median of each round's ratio (watch's run against the valkey-benchmark
	// run beside it), not the ratio of the medians: this host's speed drifts by 20-40%
	// between rounds, and a pair of adjacent runs shares the drift.
	ratios := func(w func(round) watchResult) (ops, p50, p99 float64) {
		return col(func(r round) float64 { return w(r).opsPerSec / r.bRPS }),
			col(func(r round) float64 { return w(r).p50 / r.bP50 }),
			col(func(r round) float64 { return w(r).p99 / r.bP99 })
	}
	fmt.Printf("watch (its default client settings) vs valkey-benchmark, %s (valkey-server 8), valkey-benchmark -c %d -P 1,\n", shape, conns)
	fmt.Printf("%s of watch per run, median of %d round(s).\n", duration, rounds)
	fmt.Printf("mix compared: watch's session mix on both sides, create/read/refresh/delete 10/60/20/10%% (SET NX PX 256 B, GET,\n")
	fmt.Printf("  PEXPIRE, DEL), NOT valkey-benchmark's -t set,get. valkey-benchmark runs the same commands in the same counts as\n")
	if concurrent {
		fmt.Printf("  watch sent, one invocation per command kind, the creates, reads and refreshes at once (connections shared in\n")
		fmt.Printf("  their proportions: the server sees them interleaved, as watch's), the deletes after them (its ops/s: all commands\n")
	} else {
		fmt.Printf("  watch sent, one command kind after the other (%d connections cannot be shared 1:6:2 among creates, reads and\n", conns)
		fmt.Printf("  refreshes to run them at once; a GET-only run is faster than GETs among writes) (its ops/s: all commands\n")
	}
	fmt.Printf("  over the runs' time; its p50/p99: quantiles of the count-weighted mixture of the runs' distributions); watch\n")
	fmt.Printf("  interleaves them per session. The same work: its keyspace (a key per slot tag) is filled first, untimed, so its\n")
	fmt.Printf("  GETs return 256 B and its PEXPIREs land; each SET NX has a key of its own (-r), so it writes and replicates as\n")
	fmt.Printf("  watch's creates do; its deletes are a sample of at most %d on the filled keyspace, standing for all of watch's\n", keyspace/2)
	fmt.Printf("  (its \"work\" line says what they found).\n")
	fmt.Printf("in flight (Little's law, rate x mean latency): valkey-benchmark -c %d kept %.1f commands in flight (its clients wait\n", conns, bIn)
	fmt.Printf("  for the event loop between a reply and the next command, outside its latency); a watch worker sends its next\n")
	fmt.Printf("  command at once, so watch with %d workers keeps %d in flight. Judged: the first line, watch with valkey-benchmark's\n", conns, conns)
	fmt.Printf("  in-flight average as workers; not judged: watch with %d workers.\n", conns)
	fmt.Printf("targets (issue 14 item 6): ops/s >= %.2fx, p50 <= %.2fx, p99 <= %.2fx valkey-benchmark's.\n", targetOps, targetP50, targetP99)
	fmt.Printf("  %-40s %9s %10s %9s %9s   %s\n", "", "in flight", "ops/s", "p50 ms", "p99 ms", "ratio to valkey-benchmark (median of the rounds' ratios): ops/s, p50, p99")
	fmt.Printf("  %-40s %9.1f %10.0f %9.3f %9.3f\n", fmt.Sprintf("valkey-benchmark -c %d", conns), bIn, bOps, bP50, bP99)
	judged := func(r round) watchResult { return r.judged }
	for _, line := range []struct {
		name string
		w    func(round) watchResult
	}{
		{"watch, in-flight workers", judged},
		{fmt.Sprintf("watch, %d workers", conns), func(r round) watchResult { return r.nominal }},
	} {
		wOps, wP50, wP99 := col(func(r round) float64 { return line.w(r).opsPerSec }), col(func(r round) float64 { return line.w(r).p50 }), col(func(r round) float64 { return line.w(r).p99 })
		wIn := col(func(r round) float64 { return line.w(r).inFlight() })
		rOps, rP50, rP99 := ratios(line.w)
		verdict, _ := judge(rOps, rP50, rP99)
		if line.name != "watch, in-flight workers" {
			verdict = "(not judged) " + verdict
		}
		fmt.Printf("  %-40s %9.1f %10.0f %9.3f %9.3f   ops/s %.2fx, p50 %.2fx, p99 %.2fx  %s\n",
			line.name, wIn, wOps, wP50, wP99, rOps, rP50, rP99, verdict)
	}
	verdict, _ := judge(ratios(judged))
	benchOps := make([]float64, len(rs))
	for i, r := range rs {
		benchOps[i] = r.bRPS
	}
	verdict = conclude(verdict, benchOps)
	fmt.Printf("verdict, valkey-benchmark -c %d (%.1f in flight) vs watch with as many in flight: %s\n", conns, bIn, verdict)
	how := "each command kind alone"
	if concurrent {
		how = "creates, reads and refreshes at once, deletes alone"
	}
	fmt.Printf("per command, last round (valkey-benchmark runs %s; watch (judged run) runs the mix):\n", how)
	last := rs[len(rs)-1]
	for _, mc := range mixCommands {
		w, b := last.judged.byOp[mc.op], last.bRuns[mc.op]
		fmt.Printf("  %-8s valkey-benchmark %7.0f ops/s p50 %.3fms p99 %.3fms | watch p50 %.3fms p99 %.3fms | p50 %.2fx, p99 %.2fx\n",
			mc.op, b.rps, b.p50, b.p99, w.P50Ms, w.P99Ms, w.P50Ms/b.p50, w.P99Ms/b.p99)
	}
}
