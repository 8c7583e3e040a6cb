package watch

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
)

// updatePlots rewrites testdata/plots/ with the evidence of the real-server runs, the plots a
// reviewer converts to PNG and looks at (go test ./validate/watch/ -run Stall -update-plots).
var updatePlots = flag.Bool("update-plots", false, "write the rendered plots of the real-server runs to testdata/plots/")

// serverlessRun runs the engine against the serverless stand-in's primary port, calling fault
// (in its own goroutine) once traffic has started, and returns the evidence as watch builds it.
func serverlessRun(t *testing.T, c *valkeytest.Cluster, name string, fault func()) *Evidence {
	t.Helper()
	dials := &DialCounter{}
	opt := valkey.ClientOption{
		InitAddress:       []string{c.Primary.Addr},
		Username:          valkeytest.AppUser,
		Password:          valkeytest.AppPassword,
		TLSConfig:         c.Primary.CA.TLSConfig("localhost"),
		DisableCache:      true,
		DisableRetry:      true,
		PipelineMultiplex: -1,
		Dialer:            net.Dialer{Timeout: time.Second},
		ClientSetInfo:     valkey.DisableClientSetInfo,
	}
	dials.Wrap(&opt)
	client, err := valkey.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	prefix := "valkey-dr:validate:{plot" + strconv.FormatInt(time.Now().UnixNano(), 36)
	keys := Keys{Prefix: prefix, Key: func(tag, n string) string { return prefix + "-" + tag + "}:" + n }}
	cfg := Config{Duration: 6 * time.Second, Rate: 400, Concurrency: 4, Interval: 500 * time.Millisecond,
		OpTimeout: 500 * time.Millisecond, Primaries: []string{c.Primary.Addr}}
	var wg sync.WaitGroup
	hooks := Hooks{OnInterval: func(iv Interval) {
		// The fault starts after the first interval: the run has a healthy baseline.
		if iv.Index == 0 && fault != nil {
			wg.Add(1)
			go func() { defer wg.Done(); fault() }()
		}
	}}
	out := Run(t.Context(), client, cfg, keys, dials, hooks)
	wg.Wait()

	// p99 250ms as the cluster test of validate: a loaded CI host stays well within it.
	sla := SLA{P99: 250 * time.Millisecond, ErrorRate: 0.001}
	ev := &Evidence{SchemaVersion: SchemaVersion, Kind: "watch", RunID: name, KeyPrefix: prefix,
		StartedAt: out.StartedAt, FinishedAt: out.FinishedAt, Outcome: out}
	ev.Target.Endpoint = c.Primary.Addr
	ok, lines := sla.Evaluate(out.Total)
	ev.SLA, ev.Verdict, ev.Reason = lines, "pass", fmt.Sprintf("the SLA held over %.2fs of traffic", out.Total.DurationS)
	if !ok {
		// The phrasing of validate's watch subcommand (failedSLA).
		var missed []string
		for _, l := range lines {
			switch {
			case l.Pass:
			case l.Unit == "ms":
				missed = append(missed, fmt.Sprintf("%s %.3fms > %.3fms", l.Name, l.Actual, l.Limit))
			default:
				missed = append(missed, fmt.Sprintf("%s %.3f%% > %.3f%%", l.Name, l.Actual*100, l.Limit*100))
			}
		}
		ev.Verdict, ev.ExitCode, ev.Reason = "fail", 1, "the SLA did not hold: "+strings.Join(missed, "; ")
	}
	dir := t.TempDir()
	if _, err := WriteEvidence(dir, ev); err != nil {
		t.Fatal(err)
	}
	if *updatePlots {
		b, err := os.ReadFile(filepath.Join(dir, "watch-latency.svg"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "plots", name+".svg"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, iv := range out.Intervals {
		t.Logf("%s %s", iv.Line(), strings.Join(iv.SLAMissed, ","))
	}
	return ev
}

// TestWatchStalledPrimaryIsASpikeAndADrop: a primary stopped (SIGSTOP) for 2 s mid-run must
// show in the evidence as what it is: commands that wait for their timeout (a failed-latency
// spike, not the dip the successful commands alone show), throughput falling, and the
// intervals shaded as SLA missed. A healthy run of the same shape is the baseline.
func TestWatchStalledPrimaryIsASpikeAndADrop(t *testing.T) {
	// The baseline and the stalled run side by side, each on its own stand-in: they mostly
	// wait (6 s of traffic at 400 ops/s each).
	t.Run("healthy", func(t *testing.T) {
		t.Parallel()
		c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
		healthy := serverlessRun(t, c, "healthy", nil)
		if healthy.Verdict != "pass" || healthy.Total.Errors != 0 || healthy.Total.Failed.MaxMs != 0 {
			t.Fatalf("healthy run: %s (%s), %d errors", healthy.Verdict, healthy.Reason, healthy.Total.Errors)
		}
		if healthy.Total.Attempts.P99Ms != healthy.Total.P99Ms {
			t.Errorf("without failures every attempt is a success: attempt p99 %v, success p99 %v", healthy.Total.Attempts.P99Ms, healthy.Total.P99Ms)
		}
	})
	t.Run("stalled", func(t *testing.T) {
		t.Parallel()
		c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
		stalledRun(t, c)
	})
}

func stalledRun(t *testing.T, c *valkeytest.Cluster) {
	stalled := serverlessRun(t, c, "stalled", func() {
		c.Primary.Pause()
		defer c.Primary.Resume()
		time.Sleep(2 * time.Second)
	})
	if stalled.Verdict != "fail" || !strings.Contains(stalled.Reason, "error-rate") {
		t.Fatalf("stalled run: %s (%s), want the error rate to fail the SLA", stalled.Verdict, stalled.Reason)
	}
	timeoutMs := float64(stalled.Config.OpTimeout.Milliseconds())
	var rates []float64
	spikes, missed := 0, 0
	for _, iv := range stalled.Intervals {
		rates = append(rates, iv.OpsPerSec)
		// A timed-out command waited for its deadline (at least 90% of the op timeout, see
		// opCtx): its latency is the spike, whatever the few successes in the interval show.
		if iv.ErrorClasses["timeout"] > 0 && iv.Failed.P99Ms >= 0.8*timeoutMs && iv.Attempts.MaxMs >= iv.Failed.P99Ms {
			spikes++
		}
		if len(iv.SLAMissed) > 0 {
			missed++
		}
	}
	if spikes == 0 {
		t.Errorf("no interval shows the timed-out commands' latency (>= %.0fms)", 0.8*timeoutMs)
	}
	if stalled.Total.Failed.MaxMs < 0.8*timeoutMs || stalled.Total.Attempts.MaxMs < stalled.Total.Failed.MaxMs {
		t.Errorf("totals: failed max %.1fms, attempt max %.1fms", stalled.Total.Failed.MaxMs, stalled.Total.Attempts.MaxMs)
	}
	sorted := slices.Sorted(slices.Values(rates))
	if lowest, median := sorted[0], sorted[len(sorted)/2]; lowest > median/2 {
		t.Errorf("throughput did not drop during the stall: lowest %.0f ops/s, median %.0f", lowest, median)
	}
	if missed == 0 {
		t.Errorf("no interval is marked as missing the SLA")
	}

	// The evidence files carry it: the CSV's failed_p99_ms column, the SVG's shading.
	var csvBuf, svgBuf bytes.Buffer
	if err := WriteCSV(&csvBuf, stalled.Intervals); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&csvBuf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "failed_p99_ms")
	peak := 0.0
	for _, r := range rows[1:] {
		v, _ := strconv.ParseFloat(r[col], 64)
		peak = max(peak, v)
	}
	if peak < 0.8*timeoutMs {
		t.Errorf("watch.csv failed_p99_ms peaks at %.1f, want the timeouts (>= %.0f)", peak, 0.8*timeoutMs)
	}
	if err := WriteSVG(&svgBuf, stalled); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(svgBuf.String(), `class="sla-missed"`); n != missed {
		t.Errorf("svg shades %d intervals, %d missed the SLA", n, missed)
	}
	if !strings.Contains(svgBuf.String(), `data-series="failed-p99"`) {
		t.Error("svg has no failed-latency series")
	}
}
