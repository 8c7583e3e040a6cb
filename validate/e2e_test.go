package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
)

// result is one end-to-end run of the `run` subcommand.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
	report         *report.Report // from --evidence-dir when given
	dir            string
}

// invocation builds the arguments of one run.
type invocation struct {
	args        []string
	env         map[string]string
	beforeCheck func(string)
	resolver    interface {
		LookupHost(ctx context.Context, host string) ([]string, error)
		LookupCNAME(ctx context.Context, host string) (string, error)
	}
	noEvidence bool
}

func validate(t *testing.T, inv invocation) result {
	t.Helper()
	d := defaultDeps()
	d.getenv = func(k string) string { return inv.env[k] }
	d.beforeCheck = inv.beforeCheck
	if inv.resolver != nil {
		d.resolver = inv.resolver
	}
	args := inv.args
	var dir string
	if !inv.noEvidence {
		dir = filepath.Join(t.TempDir(), "evidence")
		args = append(append([]string{}, args...), "--evidence-dir", dir)
	}
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(args, &out, &errb, d)
	res := result{code: code, stdout: out.String(), stderr: errb.String(), took: time.Since(start), dir: dir}
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, contract.ReportFile)); err == nil {
			res.report = &report.Report{}
			if err := json.Unmarshal(b, res.report); err != nil {
				t.Fatalf("report.json does not parse: %v", err)
			}
		}
	}
	t.Logf("exit %d in %v\nstdout:\n%s\nstderr:\n%s", code, res.took, res.stdout, res.stderr)
	return res
}

// check returns the named check's result from the report.
func (r result) check(t *testing.T, name string) report.Result {
	t.Helper()
	if r.report == nil {
		t.Fatalf("no report written")
	}
	for _, c := range r.report.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in the report", name)
	return report.Result{}
}

// tlsArgs are the arguments for a TLS server of the harness.
func tlsArgs(s *valkeytest.Server, user string) []string {
	return []string{"--endpoint", s.Addr, "--tls-server-name", "localhost", "--ca-file", s.CA.CertFile, "--user", user}
}

func pw(p string) map[string]string { return map[string]string{"VALKEY_PASSWORD": p} }

// asApp is a run against s as the application user with its password, over TLS: the run that
// should pass, so a test states only its own arguments (more) and what it does to the server.
func asApp(s *valkeytest.Server, more ...string) invocation {
	return invocation{args: append(tlsArgs(s, valkeytest.AppUser), more...), env: pw(valkeytest.AppPassword)}
}

func TestStandaloneTLSAllPass(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	res := validate(t, asApp(s, "--reader-port", strconv.Itoa(s.Port), "--dns-name", "localhost"))
	// The reader port is the primary port here: the reader-path checks have nothing to read.
	assertAllPass(t, res, "reader-tcp", "reader-tls", "reader")
	if n := valkeytest.DBSize(t, s); n != 0 {
		t.Errorf("DBSIZE after the run = %d, want 0", n)
	}
}

// TestClusterTLSAllPass runs against three masters (no read port: another master is not a
// replica): sessions spread over shards, and every primary node is visited.
func TestClusterTLSAllPass(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartCluster(t, valkeytest.Options{TLS: true})
	res := validate(t, asApp(c.Nodes[0], "--dns-name", "localhost"))
	assertAllPass(t, res)
	cm := res.check(t, "cluster-mode")
	if !strings.Contains(cm.Detail, "cluster client over 3 node(s)") {
		t.Errorf("cluster-mode detail = %q, want 3 nodes", cm.Detail)
	}
	if s := res.report.Server; s == nil || s.Mode != "cluster" || s.ClientMode != "cluster" || s.Server != "valkey" || s.Version == "" || s.Proto != 3 {
		t.Errorf("server evidence = %+v", s)
	}
	if sess := res.check(t, "session-lifecycle"); sess.Evidence["distinctSlots"].(float64) < 8 {
		t.Errorf("sessions spread over %v slots, want >= 8", sess.Evidence["distinctSlots"])
	}
	if n := valkeytest.DBSize(t, c); n != 0 {
		t.Errorf("DBSIZE after the run = %d, want 0", n)
	}
}

// assertAllPass wants exit 0 and every check pass. The harness's certificates live 24 hours,
// so tls must WARN about the expiry (within 30 days): that is the warning path, proven here.
func assertAllPass(t *testing.T, res result, allowSkip ...string) {
	t.Helper()
	if res.code != 0 || res.report == nil || res.report.ExitCode != 0 || res.report.Verdict != report.Pass {
		t.Fatalf("exit %d, want 0", res.code)
	}
	for _, c := range res.report.Checks {
		want := report.Pass
		switch {
		case slices.Contains(allowSkip, c.Name) ||
			(checks.PathOf(c.Name) == checks.PathReader && strings.HasPrefix(c.Detail, "no reader port known")):
			want = report.Skip
		case c.Name == "tls" || c.Name == "reader-tls":
			want = report.Warn
			if !strings.Contains(c.Detail, "EXPIRES IN 0 DAYS") {
				t.Errorf("%s detail %q does not warn about the expiry", c.Name, c.Detail)
			}
		}
		if c.Status != want {
			t.Errorf("check %s: %s (want %s): %s", c.Name, c.Status, want, c.Detail)
		}
	}
	if len(res.report.Checks) != len(checks.Table) {
		t.Errorf("%d checks, want %d (the table)", len(res.report.Checks), len(checks.Table))
	}
}
