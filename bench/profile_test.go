package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return d
}

// TestWatchProfile runs the watch engine in this process (so -cpuprofile and CPUPROF see it)
// with each client setting of VARIANTS in turn, and "bench" as valkey-benchmark on the same mix,
// on bench/watch.sh's TOPOLOGY (the serverless shape unless TOPOLOGY=cluster): the A/B runs and
// profiles of bench/README-watch.md. VARIANTS are comma-separated settings: mux=N
// (PipelineMultiplex), pool (DisableAutoPipelining), always (AlwaysPipelining), resp2
// (AlwaysRESP2), flush=µs (MaxFlushDelay), ring=N, rbuf=bytes, worker (key spread), spw=N
// (sessions per worker), procs=N (GOMAXPROCS), spin=µs (reads poll the socket that long before
// parking: busypoll_test.go). Clients with no library, same commands and TLS: raw, a goroutine
// per connection (rawfloor_test.go; raw,deadline: a deadline set before every command); loop,
// one goroutine on an epoll loop of its own, as valkey-benchmark is built (eventloop_test.go;
// loop,rawwait: its epoll_wait hidden from Go's scheduler). CONC in flight (48), DUR per run
// (5s), BN valkey-benchmark commands (300000), BCONC valkey-benchmark's clients (CONC), CPUPROF
// a file prefix for one CPU profile per variant.
// cpu/op is this process's (or valkey-benchmark's) CPU time per command, server/op the
// valkey-servers', busy the cores both kept busy at that rate; p50/avg is the shape of the
// latency distribution (at equal rate and in-flight commands the means are equal, by Little's
// law, and the p50s differ by the shapes).
func TestWatchProfile(t *testing.T) {
	if os.Getenv("VALKEY_DR_BENCH") != "1" || os.Getenv("VARIANTS") == "" {
		t.Skip("benchmark (profile harness): VALKEY_DR_BENCH=1 VARIANTS='bench mux=0 pool' go test ./bench/ -run TestWatchProfile -v")
	}
	c := startTopology(t)
	pinServers(t, c) // PIN=1: run the harness under taskset -c 1
	conc := envInt("CONC", 48)
	dur, _ := time.ParseDuration(os.Getenv("DUR"))
	if dur == 0 {
		dur = 5 * time.Second
	}
	for _, variant := range strings.Fields(os.Getenv("VARIANTS")) {
		// valkeyclient.Options as watch sets them.
		opt := valkey.ClientOption{InitAddress: []string{c.Nodes[0].Addr}, DisableCache: true, DisableRetry: true,
			PipelineMultiplex: -1, Dialer: net.Dialer{Timeout: 3 * time.Second, KeepAlive: time.Second},
			ClientSetInfo: valkey.DisableClientSetInfo, ConnWriteTimeout: 3 * time.Second,
			TLSConfig: c.CA.TLSConfig("localhost"), Username: valkeytest.AppUser, Password: valkeytest.AppPassword}
		spread := watch.SpreadSession
		spw := 0
		var spinUS time.Duration
		for _, kv := range strings.Split(variant, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.Atoi(v)
			switch k {
			case "mux":
				opt.PipelineMultiplex = n
			case "pool":
				opt.DisableAutoPipelining = true
			case "always":
				opt.AlwaysPipelining = true
			case "resp2":
				opt.AlwaysRESP2 = true
			case "flush":
				opt.MaxFlushDelay = time.Duration(n) * time.Microsecond
			case "ring":
				opt.RingScaleEachConn = n
			case "rbuf":
				opt.ReadBufferEachConn = n
				opt.WriteBufferEachConn = n
			case "worker":
				spread = watch.SpreadWorker
			case "procs":
				runtime.GOMAXPROCS(n)
			case "spw":
				spw = n
			case "spin":
				spinUS = time.Duration(n) * time.Microsecond
			case "bench", "raw", "deadline", "loop", "rawwait":
			}
		}
		if spinUS > 0 {
			opt.DialCtxFn = pollDialCtxFn(spinUS)
		}
		// The library-free clients: raw[,deadline][,procs=N][,spin=µs], loop[,rawwait].
		var floor func() (float64, time.Duration, time.Duration)
		switch {
		case strings.HasPrefix(variant, "raw"):
			floor = func() (float64, time.Duration, time.Duration) {
				return rawFloor(t, c, conc, dur, strings.Contains(variant, "deadline"), spinUS)
			}
		case strings.HasPrefix(variant, "loop"):
			floor = func() (float64, time.Duration, time.Duration) {
				return loopFloor(t, c, conc, dur, strings.Contains(variant, "rawwait"))
			}
		}
		if floor != nil {
			cpu0, srv0 := cpuSelf(), cpuServers(t, c)
			ops, p50, p99 := floor()
			runtime.GOMAXPROCS(runtime.NumCPU())
			n := ops * dur.Seconds()
			fmt.Printf("%-40s %8.0f ops/s p50 %.3f p99 %.3f %s\n", variant, ops, ms(p50), ms(p99), cpuText(ops, (cpuSelf()-cpu0)/n, (cpuServers(t, c)-srv0)/n))
			continue
		}
		if variant == "bench" {
			total := envInt("BN", 300000)
			counts := []int{total / 10, total * 6 / 10, total * 2 / 10, total / 10}
			bm := benchMix(t, c, envInt("BCONC", conc), counts, strings.Repeat("x", watch.DefaultValueSize))
			if !benchWorkShown {
				fmt.Println(bm.work)
				benchWorkShown = true
			}
			n := float64(total)
			fmt.Printf("%-40s %8.0f ops/s p50 %.3f p99 %.3f avg %.3f in-flight %.1f p50/avg %.2f %s\n", variant, bm.rps, bm.p50, bm.p99, bm.avg, bm.inFlight(), bm.p50/bm.avg, cpuText(bm.rps, bm.cpu/n, bm.serverCPU/n))
			continue
		}
		cl, err := valkey.NewClient(opt)
		if err != nil {
			t.Fatal(err)
		}
		env := &checks.Env{RunID: checks.NewRunID()}
		keys := watch.Keys{Key: env.Key, Prefix: env.Prefix()}
		var f *os.File
		if p := os.Getenv("CPUPROF"); p != "" {
			f, _ = os.Create(p + "." + strings.ReplaceAll(variant, ",", "_") + ".cpu")
			pprof.StartCPUProfile(f)
		}
		cpu0, srv0 := cpuSelf(), cpuServers(t, c)
		out := watch.Run(context.Background(), cl, watch.Config{Duration: dur, Concurrency: conc, Spread: spread, SessionsPerWorker: spw}, keys, nil, watch.Hooks{})
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		cl.Close()
		runtime.GOMAXPROCS(runtime.NumCPU())
		tt := out.Total
		fmt.Printf("%-40s %8.0f ops/s p50 %.3f p99 %.3f avg %.3f in-flight %.1f p50/avg %.2f errs %d %s\n", variant, tt.OpsPerSec, tt.P50Ms, tt.P99Ms, tt.MeanMs, tt.OpsPerSec*tt.MeanMs/1000, tt.P50Ms/tt.MeanMs, tt.Errors, cpuText(tt.OpsPerSec, (cpuSelf()-cpu0)/float64(tt.Ops), (cpuServers(t, c)-srv0)/float64(tt.Ops)))
	}
}

// cpuServers is the CPU time (µs) of every valkey-server of c so far, from /proc/<pid>/stat:
// what a command cost the cache, beside what it cost the client.
func cpuServers(t *testing.T, c *valkeytest.Cluster) float64 {
	t.Helper()
	total := 0.0
	for _, n := range c.Nodes {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.PID()))
		if err != nil {
			t.Fatal(err)
		}
		// Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		for _, i := range []int{11, 12} {
			v, _ := strconv.ParseFloat(f[i], 64)
			total += v * 1e6 / clockTicks
		}
	}
	return total
}

// cpuText says what a command cost the client and the servers (µs of CPU) and how many cores
// both kept busy at that rate: below the machine's cores, the rate was set by waiting (wake-ups,
// the host), not by CPU.
func cpuText(opsPerSec, client, server float64) string {
	return fmt.Sprintf("cpu/op %.1fus server/op %.1fus busy %.2f cores", client, server, opsPerSec*(client+server)/1e6)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times (100 on Linux everywhere Go runs).
const clockTicks = 100

// benchWorkShown: the first bench variant of a harness run says what work its commands did.
var benchWorkShown bool

func rus(who int) float64 {
	var r syscall.Rusage
	syscall.Getrusage(who, &r)
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e3
}

func cpuSelf() float64 { return rus(syscall.RUSAGE_SELF) }
