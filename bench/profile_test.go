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
// on one local 3-master TLS cluster: the A/B runs and profiles of bench/README-watch.md.
// VARIANTS are comma-separated settings: mux=N (PipelineMultiplex), pool (DisableAutoPipelining),
// always (AlwaysPipelining), flush=µs (MaxFlushDelay), ring=N, rbuf=bytes, worker (key spread),
// spw=N (sessions per worker), procs=N (GOMAXPROCS), spin=µs (reads poll the socket that long
// before parking: busypoll_test.go); raw is a client with no library
// (rawfloor_test.go), raw,deadline the same setting a deadline before every command. CONC in flight (48), DUR per run (5s), BN
// valkey-benchmark commands (300000), BCONC valkey-benchmark's clients (CONC), CPUPROF a file prefix for one CPU profile per variant.
// cpu/op is this process's (or valkey-benchmark's) CPU time per command.
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
			case "bench", "raw", "deadline":
			}
		}
		if spinUS > 0 {
			opt.DialCtxFn = pollDialCtxFn(spinUS)
		}
		if strings.HasPrefix(variant, "raw") { // raw[,deadline][,procs=N]
			cpu0 := cpuSelf()
			ops, p50, p99 := rawFloor(t, c, conc, dur, strings.Contains(variant, "deadline"), spinUS)
			runtime.GOMAXPROCS(runtime.NumCPU())
			fmt.Printf("%-40s %8.0f ops/s p50 %.3f p99 %.3f cpu/op %.1fus\n", variant, ops, ms(p50), ms(p99), (cpuSelf()-cpu0)/(ops*dur.Seconds()))
			continue
		}
		if variant == "bench" {
			total := envInt("BN", 300000)
			var runs []benchRun
			secs := 0.0
			prefix := fmt.Sprintf("valkey-dr:bench:{tag}:%s:", checks.NewRunID())
			value := strings.Repeat("x", 256)
			for i, mc := range mixCommands {
				n := total * []int{1, 6, 2, 1}[i] / 10
				out, err := mc.benchmark(c, envInt("BCONC", conc), n, prefix, value).CombinedOutput()
				if err != nil {
					t.Fatal(err, string(out))
				}
				br := parseBenchmark(t, out)
				br.n = n
				runs = append(runs, br)
				secs += float64(n) / br.rps
			}
			avg := 0.0
			for _, r := range runs {
				avg += r.avg * float64(r.n) / float64(total)
			}
			rps := float64(total) / secs
			fmt.Printf("%-40s %8.0f ops/s p50 %.3f p99 %.3f avg %.3f in-flight %.1f cpu/op %.1fus\n", variant, rps, mixQuantile(runs, 0.5), mixQuantile(runs, 0.99), avg, rps*avg/1000, cpuChildren()/float64(total))
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
		cpu0 := cpuSelf()
		out := watch.Run(context.Background(), cl, watch.Config{Duration: dur, Concurrency: conc, Spread: spread, SessionsPerWorker: spw}, keys, nil, watch.Hooks{})
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		cl.Close()
		runtime.GOMAXPROCS(runtime.NumCPU())
		tt := out.Total
		fmt.Printf("%-40s %8.0f ops/s p50 %.3f p99 %.3f avg %.3f in-flight %.1f errs %d cpu/op %.1fus\n", variant, tt.OpsPerSec, tt.P50Ms, tt.P99Ms, tt.MeanMs, tt.OpsPerSec*tt.MeanMs/1000, tt.Errors, (cpuSelf()-cpu0)/float64(tt.Ops))
	}
}

// lastChildren is the children's CPU time already reported: valkey-benchmark runs one after the other.
var lastChildren float64

func rus(who int) float64 {
	var r syscall.Rusage
	syscall.Getrusage(who, &r)
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e3
}

func cpuSelf() float64 { return rus(syscall.RUSAGE_SELF) }

func cpuChildren() float64 {
	n := rus(syscall.RUSAGE_CHILDREN)
	d := n - lastChildren
	lastChildren = n
	return d
}
