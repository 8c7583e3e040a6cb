// Package bench holds the validator's benchmarks, each run by a script: bench/validate.sh
// (end-to-end wall time of a full validation on a local 3-master TLS cluster, and the validator
// client's SET/GET latency against valkey-benchmark on the same server in the same run) and
// bench/watch.sh (`validate watch` against valkey-benchmark with the same connections and
// command mix: ops/s, p50, p99 and their ratios). It is a Go module of its own (go.mod here,
// the product through a replace), so the root's go test, vet and staticcheck of ./... are the
// product's alone.
package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// buildValidator builds the product's validator as the product builds it: ./validate in the
// repository's own module (bench is a module of its own), into a temporary directory.
func buildValidator(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "validate")
	build := exec.Command("go", "build", "-o", bin, "./validate")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestValidateBench(t *testing.T) {
	if os.Getenv("VALKEY_DR_BENCH") != "1" {
		t.Skip("benchmark: run bench/validate.sh (sets VALKEY_DR_BENCH=1)")
	}
	runs, _ := strconv.Atoi(os.Getenv("RUNS"))
	if runs < 1 {
		runs = 7
	}
	ops, _ := strconv.Atoi(os.Getenv("OPS"))
	if ops < 1 {
		ops = 20000
	}
	c := valkeytest.StartCluster(t, valkeytest.Options{TLS: true})
	n0 := c.Nodes[0]

	bin := buildValidator(t)

	// 1. Full validation, the real binary, several runs.
	args := []string{"--endpoint", n0.Addr, "--tls-server-name", "localhost", "--ca-file", c.CA.CertFile,
		"--user", valkeytest.AppUser, "--reader-port", strconv.Itoa(c.Nodes[1].Port), "--dns-name", "localhost", "--format", "json"}
	var walls, inproc []time.Duration
	for i := range runs {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "VALKEY_PASSWORD="+valkeytest.AppPassword)
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, out.String())
		}
		var rep contract.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Verdict != contract.CheckPass {
			t.Fatalf("run %d: verdict %q (%v)", i, rep.Verdict, err)
		}
		walls = append(walls, wall)
		inproc = append(inproc, time.Duration(rep.DurationMs*float64(time.Millisecond)))
	}
	fmt.Printf("full validation (%d checks, 16 sessions, 3-master TLS cluster), %d runs:\n", len(checks.Table), runs)
	fmt.Printf("  process wall time   median %v  (min %v, max %v)\n", median(walls).Round(time.Millisecond), slices.Min(walls).Round(time.Millisecond), slices.Max(walls).Round(time.Millisecond))
	fmt.Printf("  report durationMs   median %v\n", median(inproc).Round(time.Millisecond))
	if median(walls) > time.Second {
		fmt.Printf("  TARGET MISSED: median wall time %v >= 1s\n", median(walls))
	} else {
		fmt.Printf("  target < 1s: met\n")
	}

	// 2. SET/GET latency of the validator's client (its exact options), sequential, 1 connection.
	tg, err := target.Resolve(context.Background(), target.Config{Endpoint: n0.Addr, TLSServerName: "localhost",
		CAFile: c.CA.CertFile, User: valkeytest.AppUser}, target.Deps{Getenv: func(k string) string {
		if k == target.PasswordEnv {
			return valkeytest.AppPassword
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	env := &checks.Env{Target: tg, Version: "bench", RunID: checks.NewRunID()}
	ctx := context.Background()
	client, err := env.NewClient(ctx, n0.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	key := env.Prefix() + "}:bench"
	val := strings.Repeat("x", 3) // valkey-benchmark's default payload is 3 bytes
	lat := map[string][]time.Duration{"SET": make([]time.Duration, 0, ops), "GET": make([]time.Duration, 0, ops)}
	for range ops {
		s := time.Now()
		if err := client.Do(ctx, client.B().Set().Key(key).Value(val).ExSeconds(60).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		lat["SET"] = append(lat["SET"], time.Since(s))
		s = time.Now()
		if err := client.Do(ctx, client.B().Get().Key(key).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		lat["GET"] = append(lat["GET"], time.Since(s))
	}
	_ = client.Do(ctx, client.B().Del().Key(key).Build()).Error()

	// 3. valkey-benchmark, same server, same run: 1 client, no pipelining (like the checks).
	bargs := []string{"-h", n0.Host, "-p", strconv.Itoa(n0.Port), "--tls", "--cacert", c.CA.CertFile, "--sni", "localhost",
		"--user", valkeytest.AppUser, "-a", valkeytest.AppPassword, "--cluster", "-c", "1", "-P", "1", "-n", strconv.Itoa(ops),
		"-t", "set,get", "--csv"}
	out, err := exec.Command("valkey-benchmark", bargs...).CombinedOutput()
	if err != nil {
		t.Fatalf("valkey-benchmark: %v\n%s", err, out)
	}
	bench := parseCSV(t, out)
	fmt.Printf("SET/GET latency, %d sequential ops each, 1 connection, TLS, node %s:\n", ops, n0.Addr)
	fmt.Printf("  %-4s %-22s %-22s %s\n", "op", "validator p50 / avg", "valkey-benchmark p50 / avg", "ratio p50 (validator/benchmark)")
	for _, op := range []string{"SET", "GET"} {
		l := lat[op]
		var sum time.Duration
		for _, d := range l {
			sum += d
		}
		p50 := median(l)
		avg := sum / time.Duration(len(l))
		b := bench[op]
		fmt.Printf("  %-4s %7.3fms / %7.3fms   %7.3fms / %7.3fms     %.2fx\n", op, ms(p50), ms(avg), b[1], b[0], ms(p50)/b[1])
	}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// parseCSV reads valkey-benchmark --csv: "test","rps","avg_latency_ms","min_latency_ms",
// "p50_latency_ms",... and returns avg and p50 per test.
func parseCSV(t *testing.T, out []byte) map[string][2]float64 {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, `"`) {
			r, err := csv.NewReader(strings.NewReader(line)).Read()
			if err == nil {
				rows = append(rows, r)
			}
		}
	}
	if len(rows) < 2 {
		t.Fatalf("valkey-benchmark output not understood:\n%s", out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	m := map[string][2]float64{}
	for _, r := range rows[1:] {
		avg, _ := strconv.ParseFloat(r[col["avg_latency_ms"]], 64)
		p50, _ := strconv.ParseFloat(r[col["p50_latency_ms"]], 64)
		m[r[0]] = [2]float64{avg, p50}
	}
	return m
}
