package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/report"
)

// The tests of issue 9: verdicts held to the ElastiCache Serverless shape (docs/design.md, "Serverless as clients see it"), one
// master with every slot and its replica as the read port, the app user limited to the
// serverless-supported commands.

// serverlessArgs targets the stand-in as a client sees serverless: one hostname, the primary
// port and the read port.
func serverlessArgs(c *valkeytest.Cluster, user string) []string {
	return []string{"--endpoint", "localhost:" + strconv.Itoa(c.Primary.Port), "--reader-port", strconv.Itoa(c.Replica.Port),
		"--ca-file", c.CA.CertFile, "--user", user}
}

// getCalls is cmdstat_get calls on a node (INFO commandstats as admin, never the app user).
func getCalls(t *testing.T, s *valkeytest.Server) int64 {
	t.Helper()
	info := valkeytest.Do(t, s, "INFO", "commandstats")
	for _, l := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "cmdstat_get:calls="); ok {
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			return n
		}
	}
	return 0
}

func TestServerlessAllPassAndTheReaderReadsTheReadPort(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	before := getCalls(t, c.Replica)
	res := validate(t, invocation{args: append(serverlessArgs(c, valkeytest.AppUser), "--dns-name", "localhost"), env: pw(valkeytest.AppPassword)})
	assertAllPass(t, res)
	// Finding 1: the replica itself served the reader's GET.
	if after := getCalls(t, c.Replica); after <= before {
		t.Errorf("the replica served %d GETs during the run: the reader check did not read through the read port", after-before)
	}
	r := res.check(t, "reader")
	if !strings.Contains(r.Detail, "localhost:"+strconv.Itoa(c.Replica.Port)) || !strings.Contains(r.Detail, "READONLY") {
		t.Errorf("reader detail %q does not say the read port answered after READONLY", r.Detail)
	}
	if cl := res.check(t, "cleanup"); !strings.Contains(cl.Detail, "no evictions") {
		t.Errorf("cleanup detail %q says nothing about evictions", cl.Detail)
	}
	if n := valkeytest.DBSize(t, c); n != 0 {
		t.Errorf("DBSIZE after the run = %d, want 0", n)
	}
}

// TestReadPortFaults is finding 1 (a refusing read port passed) and 2 (a stalled read port
// failed the primary path): the reader-path rows fail, every primary-path row passes.
func TestReadPortFaults(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	tests := map[string]struct {
		fault      func(t *testing.T, c *valkeytest.Cluster)
		failed     string
		class      string
		contains   string
		maxRuntime time.Duration
	}{
		"an ACL on the replica only that denies GET fails the reader check": {
			fault: func(t *testing.T, c *valkeytest.Cluster) {
				// ACL changes are not replicated: only the read port refuses GET.
				valkeytest.Do(t, c.Replica, "ACL", "SETUSER", valkeytest.AppUser, "-get")
			},
			failed: "reader", class: "permission", contains: "NOPERM", maxRuntime: 10 * time.Second,
		},
		"a stalled replica (SIGSTOP, still advertised) fails the read port only": {
			fault: func(t *testing.T, c *valkeytest.Cluster) {
				c.Replica.Pause()
				t.Cleanup(c.Replica.Resume)
			},
			failed: "reader-tls", class: "timeout", contains: "accepted the TCP connection but sent nothing", maxRuntime: 20 * time.Second,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
			tc.fault(t, c)
			res := validate(t, invocation{args: append(serverlessArgs(c, valkeytest.AppUser), "--timeout", "30s"), env: pw(valkeytest.AppPassword)})
			if res.code != 1 {
				t.Fatalf("exit %d, want 1 (a check failed)", res.code)
			}
			if res.took > tc.maxRuntime+loadSlack {
				t.Errorf("the run took %v, want < %v", res.took, tc.maxRuntime+loadSlack)
			}
			for _, r := range res.report.Checks {
				switch {
				case r.Name == tc.failed:
					if r.Status != report.Fail || r.ErrorClass != tc.class || !strings.Contains(r.Detail, tc.contains) {
						t.Errorf("%s: %s class %q: %s; want fail class %s containing %q", r.Name, r.Status, r.ErrorClass, r.Detail, tc.class, tc.contains)
					}
				case r.Status == report.Fail && !strings.HasPrefix(r.Name, "reader"):
					t.Errorf("primary-path check %s failed because of the read port: %s", r.Name, r.Detail)
				}
			}
		})
	}
}

// TestProbeReadPortOnlyFaultIsAWarning is finding 2 for probe: a stalled read port is a
// warning line, never DEGRADED (3) or UNREACHABLE (4) of a healthy primary.
func TestProbeReadPortOnlyFaultIsAWarning(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	c.Replica.Pause()
	t.Cleanup(c.Replica.Resume)
	res := runTraffic(t, "probe", append(serverlessArgs(c, valkeytest.AppUser), "--duration", "3s", "--interval", "500ms",
		// --sla-p99 1s: this test is about the verdict of a read-port fault, not latency (a
		// loaded 2-core machine exceeds the default 10 ms p99).
		"--op-timeout", "300ms", "--sla-p99", "1s"), pw(valkeytest.AppPassword))
	if res.code != 0 || res.ev == nil || res.ev.Verdict != VerdictHealthy {
		t.Fatalf("exit %d, want 0 (healthy): the read port failed the primary", res.code)
	}
	if res.ev.Total.Successes == 0 || res.ev.Total.Errors != 0 {
		t.Errorf("primary traffic %d ok / %d errors", res.ev.Total.Successes, res.ev.Total.Errors)
	}
	warned := false
	for _, w := range res.ev.Warnings {
		warned = warned || strings.Contains(w, "read port") && strings.Contains(w, "never the primary's verdict")
	}
	if !warned || !strings.Contains(res.stdout, "WARNING: read port") {
		t.Errorf("no read-port warning: %v", res.ev.Warnings)
	}
}

// TestProbeEndpointTyposAreUsageErrors is finding 3: a typo is exit 2 with one line naming
// the flag and value, never UNREACHABLE (4), which the runbook maps to activating DR.
func TestProbeEndpointTyposAreUsageErrors(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	for name, endpoint := range map[string]string{
		"two ports":              "host:6379:1",
		"two endpoints":          "a:1,b:2",
		"a flag-like host":       "-host",
		"a comma-separated list": "a,b",
	} {
		t.Run(name, func(t *testing.T) {
			res := runTraffic(t, "probe", []string{"--endpoint", endpoint, "--duration", "1s", "--interval", "500ms"}, nil)
			line := strings.TrimSpace(res.stderr)
			if res.code != contract.ExitUsage || strings.Count(line, "\n") != 0 || !strings.Contains(line, `--endpoint "`+endpoint+`"`) ||
				!strings.Contains(line, "want host[:port]") {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line naming --endpoint, the value and what is accepted", res.code, line)
			}
		})
	}
}

// TestProbeCertificateVerdicts is finding 3: an expired server certificate refuses every
// client with a correct clock, so the cache is UNREACHABLE (4); a CA the probe does not trust
// is the probe's own trust store: INCONCLUSIVE (5).
func TestProbeCertificateVerdicts(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	expired := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true, CertValidity: time.Millisecond})
	time.Sleep(10 * time.Millisecond)
	fine := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	tests := map[string]struct {
		args    []string
		verdict string
		code    int
		want    string
	}{
		"an expired server certificate is unreachable": {args: tlsArgs(expired, valkeytest.AppUser), verdict: VerdictUnreachable,
			code: contract.ExitUnreachable, want: "outside its validity period"},
		"a CA the probe does not trust is inconclusive": {args: []string{"--endpoint", fine.Addr, "--tls-server-name", "localhost", "--user", valkeytest.AppUser},
			verdict: VerdictInconclusive, code: contract.ExitInconclusive, want: "unknown authority"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := runTraffic(t, "probe", append(tc.args, "--duration", "2s", "--interval", "500ms"), pw(valkeytest.AppPassword))
			if res.code != tc.code || res.ev == nil || res.ev.Verdict != tc.verdict || !strings.Contains(res.ev.Reason, tc.want) {
				t.Fatalf("exit %d; want %d (%s) with a reason containing %q", res.code, tc.code, tc.verdict, tc.want)
			}
		})
	}
}

// TestEvictionsAreReported is finding 4: a cache at its memory limit under volatile-lru loses
// foreign keys with a TTL while the validator writes; the run says so (cleanup warns, the
// delta is in report.json), and a key of its own that went is "evicted", not "value mismatch".
func TestEvictionsAreReported(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	admin := adminClient(t, c.Primary)
	ctx := context.Background()
	for batch := range 20 {
		cmds := make([]valkey.Completed, 0, 1000)
		for i := range 1000 {
			k := "foreign:{" + strconv.Itoa(batch*1000+i) + "}"
			cmds = append(cmds, admin.B().Set().Key(k).Value(strings.Repeat("x", 100)).ExSeconds(3600).Build())
		}
		for _, r := range admin.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	used := infoInt(t, valkeytest.Do(t, c.Primary, "INFO", "memory"), "used_memory")
	// A limit just above what is used: the validator's connections and keys push it over.
	valkeytest.Do(t, c.Primary, "CONFIG", "SET", "maxmemory", strconv.FormatInt(used+64*1024, 10))
	evBefore := infoInt(t, valkeytest.Do(t, c.Primary, "INFO", "stats"), "evicted_keys")
	res := validate(t, invocation{args: append(serverlessArgs(c, valkeytest.AppUser), "--sessions", "200"), env: pw(valkeytest.AppPassword)})
	evAfter := infoInt(t, valkeytest.Do(t, c.Primary, "INFO", "stats"), "evicted_keys")
	if evAfter <= evBefore {
		t.Fatalf("the server evicted nothing (%d -> %d): the set-up did not reach the limit", evBefore, evAfter)
	}
	cl := res.check(t, "cleanup")
	ek, _ := cl.Evidence["evictedKeys"].(map[string]any)
	if d, _ := ek["delta"].(float64); d <= 0 || cl.Status == report.Pass || !strings.Contains(cl.Detail, "evicted") {
		t.Errorf("cleanup %s %q, evictedKeys %v: the evictions (%d) went unreported", cl.Status, cl.Detail, ek, evAfter-evBefore)
	}
	for _, r := range res.report.Checks {
		if strings.Contains(r.Detail, "mismatch") || strings.Contains(r.Detail, "different value") {
			t.Errorf("%s says %q: an evicted key is not a value mismatch", r.Name, r.Detail)
		}
	}
}

// TestOperatorMessages is finding 5: the fix text sends the operator the right way.
func TestOperatorMessages(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	t.Run("a user with +@all but no key pattern is told to add a key pattern", func(t *testing.T) {
		users := append(valkeytest.ServerlessUsers(), valkeytest.User{Name: "nokeys", Password: valkeytest.AppPassword,
			Rules: "on &* +@all"})
		c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true, Users: users})
		res := validate(t, invocation{args: serverlessArgs(c, "nokeys"), env: pw(valkeytest.AppPassword)})
		r := res.check(t, "set-get")
		if r.ErrorClass != "permission" || !strings.Contains(r.Fix, "~valkey-dr:validate:*") || strings.Contains(r.Fix, "add +") {
			t.Errorf("set-get %s class %s: %s | fix %q; want a key-pattern fix", r.Status, r.ErrorClass, r.Detail, r.Fix)
		}
	})
	t.Run("OOM under an evicting policy does not say the server does not evict", func(t *testing.T) {
		c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true, MaxMemory: "2mb"})
		// Keys without a TTL: volatile-lru has nothing it may evict.
		valkeytest.Do(t, c.Primary, "DEBUG", "POPULATE", "30000", "foreign", "100")
		res := validate(t, invocation{args: serverlessArgs(c, valkeytest.AppUser), env: pw(valkeytest.AppPassword)})
		r := res.check(t, "set-get")
		if r.ErrorClass != "oom" || strings.Contains(r.Detail, "does not evict") || !strings.Contains(r.Detail, "refused") {
			t.Errorf("set-get %s class %s: %q", r.Status, r.ErrorClass, r.Detail)
		}
	})
}

func infoInt(t *testing.T, info, field string) int64 {
	t.Helper()
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO %s = %q", field, v)
			}
			return n
		}
	}
	t.Fatalf("INFO has no %s", field)
	return 0
}

// TestWatchSendsAShareOfReadsThroughTheReadPort: with --reader-port, a share of the reads go
// through the read port (READONLY) and are reported apart from the primary's totals.
func TestWatchSendsAShareOfReadsThroughTheReadPort(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	before := getCalls(t, c.Replica)
	res := runTraffic(t, "watch", append(serverlessArgs(c, valkeytest.AppUser), "--duration", "2s", "--interval", "500ms",
		"--rate", "200", "--sla-p99", "1s"), pw(valkeytest.AppPassword))
	if res.code != 0 || res.ev == nil || res.ev.Outcome == nil {
		t.Fatalf("exit %d, want 0", res.code)
	}
	r := res.ev.Reader
	if r == nil || r.Reads == 0 || r.Address != "localhost:"+strconv.Itoa(c.Replica.Port) {
		t.Fatalf("reader totals %+v: no reads reported through the read port", r)
	}
	served := getCalls(t, c.Replica) - before
	if served < r.Reads-r.Errors {
		t.Errorf("the replica served %d GETs, the report says %d reads went there", served, r.Reads)
	}
	if read := res.ev.Total.ByOp["read"].Ops; read == 0 || r.Reads > read {
		t.Errorf("primary reads %d, read-port reads %d: the read port should carry a share, not all", read, r.Reads)
	}
	if !strings.Contains(res.stdout, "read port localhost:") {
		t.Errorf("no read-port line in the output")
	}
}

// TestRefusedWritesUnderClusterDownAreNotUnacknowledged is finding 5: with a master of a
// 3-master cluster dead and the cluster down (cluster-require-full-coverage yes: CLUSTERDOWN
// everywhere), every SET is refused with an error reply or a refused connection: nothing
// landed, so cleanup must not call them "unacknowledged writes".
func TestRefusedWritesUnderClusterDownAreNotUnacknowledged(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartCluster(t, valkeytest.Options{TLS: true})
	c.Nodes[2].Kill()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(valkeytest.Do(t, c.Nodes[0], "CLUSTER", "INFO"), "cluster_state:fail") {
		if time.Now().After(deadline) {
			t.Fatal("the cluster never went down after a master was killed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The pre-checks pass (they need no slot); the traffic meets CLUSTERDOWN.
	res := runTraffic(t, "watch", append(tlsArgs(c.Nodes[0], valkeytest.AppUser), "--duration", "1s", "--interval", "500ms",
		"--rate", "100", "--op-timeout", "300ms"), pw(valkeytest.AppPassword))
	if res.ev == nil || res.ev.Outcome == nil || res.ev.Cleanup == nil {
		t.Fatalf("exit %d: no traffic ran", res.code)
	}
	if res.ev.Total.Errors == 0 || res.ev.Total.ErrorClasses["server"] == 0 {
		t.Fatalf("errors %d by class %v: want CLUSTERDOWN (class server)", res.ev.Total.Errors, res.ev.Total.ErrorClasses)
	}
	// Only a lost reply (timeout, broken connection) may hide a write that landed.
	ambiguous := res.ev.Total.ErrorClasses["timeout"] + res.ev.Total.ErrorClasses["network"]
	if n := int64(res.ev.Cleanup.Unacknowledged); n > ambiguous {
		t.Errorf("cleanup counts %d unacknowledged writes, but only %d replies were lost: refused SETs never landed", n, ambiguous)
	}
}
