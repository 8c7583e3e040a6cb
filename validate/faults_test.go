package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/report"
)

// wantFail asserts exit 1, that check name failed with class and a detail/fix containing the
// given strings, and that the run stayed within bound.
func wantFail(t *testing.T, res result, name, class string, bound time.Duration, contains ...string) report.Result {
	t.Helper()
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	if res.took > bound+loadSlack {
		t.Errorf("run took %v, want < %v", res.took, bound+loadSlack)
	}
	c := res.check(t, name)
	if c.Status != report.Fail || c.ErrorClass != class {
		t.Fatalf("check %s = %s/%s (%s), want fail/%s", name, c.Status, c.ErrorClass, c.Detail, class)
	}
	text := c.Detail + " | " + c.Fix
	for _, s := range contains {
		if !strings.Contains(text, s) {
			t.Errorf("check %s: %q does not contain %q", name, text, s)
		}
	}
	// Everything after a failed check that depends on it is skipped with the reason.
	for _, later := range res.report.Checks {
		if later.SkippedBecause != "" && later.Status != report.Skip {
			t.Errorf("check %s has skippedBecause but status %s", later.Name, later.Status)
		}
	}
	if !strings.Contains(res.stdout, "FAIL: ") {
		t.Errorf("stdout has no FAIL summary")
	}
	return c
}

func TestFaults(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	tlsServer := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	plainServer := valkeytest.StartStandalone(t, valkeytest.Options{})
	cluster := valkeytest.StartCluster(t, valkeytest.Options{TLS: true})

	tests := map[string]struct {
		inv      invocation
		check    string
		class    string
		bound    time.Duration
		contains []string
	}{
		"a wrong password fails auth at once": {
			inv:   invocation{args: tlsArgs(tlsServer, valkeytest.AppUser), env: pw("wrong-password-0123456789")},
			check: "auth", class: "auth", bound: 2 * time.Second, contains: []string{"WRONGPASS", "password source"},
		},
		"a user without cluster permissions fails cluster-mode with the fix": {
			inv:   invocation{args: tlsArgs(cluster.Nodes[0], valkeytest.NoClusterUser), env: pw(valkeytest.NoClusterPassword)},
			check: "cluster-mode", class: "mode", bound: 2 * time.Second,
			contains: []string{"fell back to a single node", "NOPERM on cluster|shards, cluster|slots", "the user lacks +cluster|shards"},
		},
		"a user without write permission fails set-get with NOPERM": {
			inv:   invocation{args: tlsArgs(cluster.Nodes[0], valkeytest.ReadOnlyUser), env: pw(valkeytest.ReadOnlyPassword)},
			check: "set-get", class: "permission", bound: 2 * time.Second, contains: []string{"NOPERM", "add +set"},
		},
		"a plaintext client against a TLS server fails tls": {
			inv: invocation{args: []string{"--endpoint", tlsServer.Addr, "--insecure-plaintext", "--user", valkeytest.AppUser},
				env: pw(valkeytest.AppPassword)},
			check: "tls", class: "tls", bound: 2 * time.Second, contains: []string{"it requires TLS", "drop --insecure-plaintext"},
		},
		"a TLS client against a plaintext server fails tls": {
			inv: invocation{args: []string{"--endpoint", plainServer.Addr, "--user", valkeytest.AppUser},
				env: pw(valkeytest.AppPassword)},
			check: "tls", class: "tls", bound: 2 * time.Second, contains: []string{"does not speak TLS"},
		},
		"an unknown CA fails tls": {
			inv: invocation{args: []string{"--endpoint", tlsServer.Addr, "--tls-server-name", "localhost", "--user", valkeytest.AppUser},
				env: pw(valkeytest.AppPassword)},
			check: "tls", class: "tls", bound: 2 * time.Second, contains: []string{"unknown authority", "--ca-file"},
		},
		"a wrong hostname fails tls": {
			inv: invocation{args: []string{"--endpoint", tlsServer.Addr, "--tls-server-name", "wrong.example", "--ca-file", tlsServer.CA.CertFile,
				"--user", valkeytest.AppUser}, env: pw(valkeytest.AppPassword)},
			check: "tls", class: "tls", bound: 2 * time.Second, contains: []string{`not valid for "wrong.example"`, "localhost", "--tls-server-name"},
		},
		"a closed port fails tcp when the deadline ends": {
			inv:   invocation{args: []string{"--endpoint", closedPort(t), "--timeout", "1500ms"}},
			check: "tcp", class: "refused", bound: 3 * time.Second, contains: []string{"connection refused"},
		},
		"an endpoint that does not resolve fails dns": {
			inv:   invocation{args: []string{"--endpoint", "does-not-exist.invalid:6379", "--timeout", "1500ms"}},
			check: "dns", class: "dns", bound: 3 * time.Second, contains: []string{"does-not-exist.invalid"},
		},
		"a DNS name that does not resolve fails dns-names": {
			inv: invocation{args: append(tlsArgs(tlsServer, valkeytest.AppUser), "--dns-name", "does-not-exist.invalid", "--timeout", "3s"),
				env: pw(valkeytest.AppPassword)},
			check: "dns-names", class: "dns", bound: 5 * time.Second, contains: []string{"does-not-exist.invalid"},
		},
		"a DNS name pointing elsewhere fails dns-names": {
			inv: invocation{args: append(tlsArgs(tlsServer, valkeytest.AppUser), "--dns-name", "session.internal.example"),
				env: pw(valkeytest.AppPassword), resolver: fakeDNS{"session.internal.example": {cname: "old-cache.serverless.use1.cache.amazonaws.com", addrs: []string{"10.0.0.9"}}}},
			check: "dns-names", class: "dns", bound: 2 * time.Second, contains: []string{"not to the endpoint", "point the record"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := validate(t, tc.inv)
			wantFail(t, res, tc.check, tc.class, tc.bound, tc.contains...)
		})
	}
}

func closedPort(t *testing.T) string {
	// A port freed after Listen can be taken by a server another test starts meanwhile (a
	// paused one turns "refused" into a timeout). A socket bound and never listening holds the
	// port for the test's life, and a connect to it is refused.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// fakeDNS is a DNS seam fake (not the Valkey protocol): names map to a CNAME target and
// addresses; unknown names are NXDOMAIN; "localhost" and IPs go to the real resolver.
type fakeDNS map[string]struct {
	cname string
	addrs []string
}

func (f fakeDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	if r, ok := f[host]; ok {
		return r.addrs, nil
	}
	if host == "localhost" {
		return net.DefaultResolver.LookupHost(ctx, host)
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f fakeDNS) LookupCNAME(ctx context.Context, host string) (string, error) {
	if r, ok := f[host]; ok {
		return r.cname + ".", nil
	}
	if host == "localhost" {
		return net.DefaultResolver.LookupCNAME(ctx, host)
	}
	return "", &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestDNSNameThroughCNAMEChain(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	// localhost stands in for the cache endpoint; the fake resolver gives the Route 53 names
	// a CNAME chain ending at it, as the stacks' records do.
	res := validate(t, invocation{
		args: []string{"--endpoint", "localhost:" + strconv.Itoa(s.Port), "--ca-file", s.CA.CertFile, "--user", valkeytest.AppUser,
			"--reader-port", strconv.Itoa(s.Port), "--dns-name", "session.us-west-2.internal.example", "--dns-name", "session.internal.example"},
		env: pw(valkeytest.AppPassword),
		resolver: fakeDNS{
			"localhost":                          {cname: "localhost", addrs: []string{"127.0.0.1"}},
			"session.us-west-2.internal.example": {cname: "localhost", addrs: []string{"127.0.0.1"}},
			"session.internal.example":           {cname: "localhost", addrs: []string{"127.0.0.1"}},
		},
	})
	assertAllPass(t, res)
	if d := res.check(t, "dns-names").Detail; !strings.Contains(d, "session.internal.example -> localhost") {
		t.Errorf("dns-names detail = %q", d)
	}
}

func TestNodeKilledMidRun(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartCluster(t, valkeytest.Options{TLS: true})
	inv := asApp(c.Nodes[0], "--timeout", "4s")
	inv.beforeCheck = func(name string) {
		if name == "session-lifecycle" {
			c.Nodes[2].Kill()
		}
	}
	res := validate(t, inv)
	// 4 s run deadline + cleanup's grace; never a hang. The dead node's slots answer
	// "connection refused" (or CLUSTERDOWN once the others notice); both are retried until
	// the deadline, then reported.
	if res.code != 1 || res.took > 8*time.Second+loadSlack {
		t.Fatalf("exit %d after %v, want 1 within %v", res.code, res.took, 8*time.Second+loadSlack)
	}
	sess := res.check(t, "session-lifecycle")
	if sess.Status != report.Fail || (sess.ErrorClass != "refused" && sess.ErrorClass != "server" && sess.ErrorClass != "timeout") {
		t.Fatalf("session-lifecycle = %s/%s: %s", sess.Status, sess.ErrorClass, sess.Detail)
	}
	if sess.Attempts < 2 {
		t.Errorf("attempts = %d: a refused connection should be retried until the deadline", sess.Attempts)
	}
}

func TestNodePausedMidRun(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	inv := asApp(s, "--timeout", "3s")
	inv.beforeCheck = func(name string) {
		switch name {
		case "set-get":
			s.Pause()
		case "cleanup":
			s.Resume()
		}
	}
	res := validate(t, inv)
	wantFail(t, res, "set-get", "timeout", 6*time.Second, "no answer before the deadline")
}

func TestOutOfMemory(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true, MaxMemory: "2mb"})
	// Fill past maxmemory (DEBUG POPULATE ignores the limit; the validator's SET must not).
	valkeytest.Do(t, s, "DEBUG", "POPULATE", "30000", "foreign", "100")
	admin := adminClient(t, s)
	before, digestBefore := dataset(t, admin)
	res := validate(t, asApp(s))
	wantFail(t, res, "set-get", "oom", 3*time.Second, "OOM", "could not free memory", "the write was refused")
	if after, digestAfter := dataset(t, admin); after != before || digestAfter != digestBefore {
		t.Errorf("DBSIZE %d -> %d, digest %s -> %s: the run changed the data", before, after, digestBefore, digestAfter)
	}
}

func TestForeignKeysUntouched(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	for _, mode := range []string{"standalone", "serverless", "3-masters"} {
		t.Run(mode, func(t *testing.T) {
			var srv *valkeytest.Server
			var reader int
			switch mode {
			case "serverless":
				c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
				srv, reader = c.Primary, c.Replica.Port
			case "3-masters":
				c := valkeytest.StartCluster(t, valkeytest.Options{TLS: true})
				srv, reader = c.Nodes[0], c.Nodes[0].Port
			default:
				srv = valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
				reader = srv.Port
			}
			admin := adminClient(t, srv)
			// Foreign data, including keys that look like the validator's (another run id,
			// and the namespace without a run id).
			ctx := context.Background()
			var cmds valkey.Commands
			for i := range 500 {
				n := strconv.Itoa(i)
				cmds = append(cmds, admin.B().Set().Key("app:"+n).Value("v"+n).Build(),
					admin.B().Hset().Key("session:{"+n+"}").FieldValue().FieldValue("user", "u"+n).Build())
			}
			cmds = append(cmds,
				admin.B().Set().Key("valkey-dr:validate:{0000000000000000}:set-get").Value("someone-else").Build(),
				admin.B().Hset().Key("valkey-dr:validate:{0000000000000000-1}:session").FieldValue().FieldValue("user", "x").Build(),
				admin.B().Set().Key("ttl-key").Value("x").ExSeconds(3600).Build())
			for _, r := range admin.DoMulti(ctx, cmds...) {
				if err := r.Error(); err != nil {
					t.Fatal(err)
				}
			}
			if mode == "serverless" {
				// The "before" includes the replica's digest: it must hold the foreign data
				// first (it was still catching up in some runs, and its catch-up looked like a
				// change). Not WAIT: it waits for the writes of its own connection, and a fresh
				// connection has none, so it returned at once.
				replicaCaughtUp(t, admin)
			}
			before, digestBefore := dataset(t, admin)
			res := validate(t, asApp(srv, "--sessions", "64", "--reader-port", strconv.Itoa(reader), "--dns-name", "localhost"))
			assertAllPass(t, res)
			if mode == "serverless" {
				// And the run's own writes and deletes have reached it before "after".
				replicaCaughtUp(t, admin)
			}
			after, digestAfter := dataset(t, admin)
			if before != after || digestBefore != digestAfter {
				t.Fatalf("data changed: DBSIZE %d -> %d, DEBUG DIGEST %s -> %s", before, after, digestBefore, digestAfter)
			}
			t.Logf("DBSIZE %d, DEBUG DIGEST %s: unchanged", after, digestAfter)
		})
	}
}

// adminClient is a real valkey-go client as the harness's admin user, for test set-up.
func adminClient(t *testing.T, s *valkeytest.Server) valkey.Client {
	t.Helper()
	c, err := valkey.NewClient(valkey.ClientOption{
		InitAddress: []string{s.Addr}, Username: valkeytest.AdminUser, Password: valkeytest.AdminPassword,
		TLSConfig: s.CA.TLSConfig("localhost"), DisableCache: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// replicaCaughtUp waits (up to 10 s) until every node of c holds the same keys: the replica of
// the serverless shape has applied what its primary has.
func replicaCaughtUp(t *testing.T, c valkey.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var sizes []int64
		var digests []string
		for _, n := range c.Nodes() {
			k, d := keysOf(t, n)
			sizes, digests = append(sizes, k), append(digests, d)
		}
		if len(slices.Compact(sizes)) == 1 && len(slices.Compact(digests)) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not catch up in 10s: DBSIZE %v, DEBUG DIGEST %v", sizes, digests)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keysOf is one node's DBSIZE and DEBUG DIGEST.
func keysOf(t *testing.T, n valkey.Client) (int64, string) {
	t.Helper()
	ctx := context.Background()
	k, err := n.Do(ctx, n.B().Dbsize().Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	d, err := n.Do(ctx, n.B().Arbitrary("DEBUG", "DIGEST").Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	return k, d
}

// dataset returns the total DBSIZE and the DEBUG DIGEST of every node (a content hash of
// each node's whole dataset, TTLs included).
func dataset(t *testing.T, c valkey.Client) (int64, string) {
	t.Helper()
	var size int64
	var digests []string
	nodes := c.Nodes()
	addrs := make([]string, 0, len(nodes))
	for a := range nodes {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		k, d := keysOf(t, nodes[a])
		size += k
		digests = append(digests, a+"="+d)
	}
	return size, strings.Join(digests, ",")
}

func TestUsageErrorsWriteNothing(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	dir := t.TempDir()
	outputs := filepath.Join(dir, "cdk-outputs.json")
	if err := os.WriteFile(outputs, []byte(`{"ValkeyDr-prod-us-west-2-dr": {"EndpointAddress": "a"}, "ValkeyDr-prod-us-east-1-primary": {"EndpointAddress": "b"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args   []string
		env    map[string]string
		wanted string
	}{
		"an unknown flag":            {args: []string{"--bogus"}, wanted: "unknown flag: --bogus"},
		"a bad --sessions value":     {args: []string{"--endpoint", "h", "--sessions", "abc"}, wanted: `invalid value "abc" for flag --sessions: want a whole number 1..1000`},
		"a bad --timeout value":      {args: []string{"--endpoint", "h", "--timeout", "soon"}, wanted: `invalid value "soon" for flag --timeout: want a positive duration`},
		"a bad --format":             {args: []string{"--endpoint", "h", "--format", "xml"}, wanted: "want one of text, json"},
		"a password as a flag":       {args: []string{"--endpoint", "h", "--password", "hunter2"}, wanted: "not accepted: a password in argv leaks"},
		"no target":                  {args: nil, wanted: "no target"},
		"an unreadable outputs file": {args: []string{"--outputs", filepath.Join(dir, "missing.json")}, wanted: "missing.json\": open "},
		"several stacks, no --stack": {args: []string{"--outputs", outputs}, wanted: "choose one with --stack (one of: ValkeyDr-prod-us-east-1-primary, ValkeyDr-prod-us-west-2-dr)"},
		"a user without a password":  {args: []string{"--endpoint", "h", "--user", "app"}, wanted: `--user "app": no password`},
		"a positional argument":      {args: []string{"--endpoint", "h", "extra"}, wanted: `unexpected argument "extra"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev := filepath.Join(t.TempDir(), "evidence")
			res := validate(t, invocation{args: append(tc.args, "--evidence-dir", ev), env: tc.env, noEvidence: true})
			if res.code != 2 {
				t.Fatalf("exit %d, want 2", res.code)
			}
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.wanted) {
				t.Fatalf("stderr = %q, want one line containing %q", res.stderr, tc.wanted)
			}
			if strings.Contains(res.stderr, "hunter2") || strings.Contains(res.stderr, "goroutine") {
				t.Fatalf("stderr leaks a secret or a stack trace: %s", res.stderr)
			}
			if _, err := os.Stat(ev); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("evidence dir exists after a usage error (%v)", err)
			}
		})
	}
}
