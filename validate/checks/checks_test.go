package checks

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

func TestRunnerSkipsDependentsAndOwnsTheFields(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	ran := map[string]bool{}
	mk := func(name string, st report.Status, needs ...string) Check {
		return Check{Name: name, Timeout: time.Second, Needs: needs, Run: func(ctx context.Context, e *Env) report.Result {
			ran[name] = true
			if _, ok := ctx.Deadline(); !ok {
				t.Errorf("%s ran without a deadline", name)
			}
			return report.Result{Status: st, Detail: name}
		}}
	}
	r := &Runner{Checks: []Check{
		mk("a", report.Pass), mk("b", report.Fail, "a"), mk("c", report.Pass, "b"), mk("d", report.Pass, "c"),
		mk("e", report.Pass, "a"),
		{Name: "boom", Timeout: time.Second, Run: func(context.Context, *Env) report.Result { panic("bug") }},
	}}
	res := r.Run(context.Background(), &Env{Target: &target.Target{Timeout: 5 * time.Second}})
	want := []struct {
		name, skippedBecause string
		status               report.Status
	}{{"a", "", report.Pass}, {"b", "", report.Fail}, {"c", "b", report.Skip}, {"d", "b", report.Skip}, {"e", "", report.Pass}, {"boom", "", report.Fail}}
	for i, w := range want {
		g := res[i]
		if g.Name != w.name || g.Status != w.status || g.SkippedBecause != w.skippedBecause || g.StartedAt.IsZero() {
			t.Errorf("result %d = %+v, want %+v", i, g, w)
		}
	}
	if ran["c"] || ran["d"] {
		t.Errorf("dependents of a failed check ran")
	}
	if !strings.Contains(res[5].Detail, "internal error in check boom: bug") {
		t.Errorf("a panic did not become a failure: %+v", res[5])
	}
}

func TestRunnerSpentDeadline(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	slow := Check{Name: "slow", Timeout: time.Second, Run: func(ctx context.Context, e *Env) report.Result {
		<-ctx.Done()
		return failErr(ctx.Err(), "slow", nil)
	}}
	var cleanupDeadline time.Duration
	cleanup := Check{Name: "cleanup", Timeout: 5 * time.Second, Always: true, Run: func(ctx context.Context, e *Env) report.Result {
		dl, _ := ctx.Deadline()
		cleanupDeadline = time.Until(dl)
		return pass("ok", nil)
	}}
	after := Check{Name: "after", Timeout: time.Second, Run: func(context.Context, *Env) report.Result { return pass("ran", nil) }}
	res := (&Runner{Checks: []Check{slow, after, cleanup}}).Run(context.Background(), &Env{Target: &target.Target{Timeout: 100 * time.Millisecond}})
	if res[0].ErrorClass != valkeyclient.ClassTimeout || res[1].ErrorClass != valkeyclient.ClassDeadline || res[2].Status != report.Pass {
		t.Fatalf("results: %+v", res)
	}
	if cleanupDeadline < CleanupGrace-100*time.Millisecond {
		t.Errorf("cleanup got %v, want about its %v grace", cleanupDeadline, CleanupGrace)
	}
}

type fakeResolver map[string][2]string // name -> cname, addr

func (f fakeResolver) LookupHost(_ context.Context, h string) ([]string, error) {
	if r, ok := f[h]; ok {
		return []string{r[1]}, nil
	}
	return nil, &net.DNSError{Name: h, Err: "no such host", IsNotFound: true}
}

func (f fakeResolver) LookupCNAME(_ context.Context, h string) (string, error) {
	if r, ok := f[h]; ok {
		return r[0] + ".", nil
	}
	return "", &net.DNSError{Name: h, Err: "no such host", IsNotFound: true}
}

func TestDNSNames(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	endpoint := "valkey-dr-prod-abc123.serverless.usw2.cache.amazonaws.com"
	dns := fakeResolver{
		endpoint:                        {endpoint, "10.0.1.5"},
		"session.us-west-2.int.example": {endpoint, "10.0.1.5"},
		"session.int.example":           {endpoint, "10.0.1.5"},
		"a-record.int.example":          {"a-record.int.example", "10.0.1.5"},
		"stale.int.example":             {"old.serverless.use1.cache.amazonaws.com", "10.9.9.9"},
	}
	tests := map[string]struct {
		names  []string
		status report.Status
		detail string
	}{
		"names whose CNAME chain reaches the endpoint pass": {names: []string{"session.us-west-2.int.example", "session.int.example"}, status: report.Pass, detail: "session.int.example -> " + endpoint},
		"an A record with the same address warns":           {names: []string{"a-record.int.example"}, status: report.Warn, detail: "NOT a CNAME"},
		"a stale record fails":                              {names: []string{"stale.int.example"}, status: report.Fail, detail: "not to the endpoint"},
		"no names is a skip":                                {names: nil, status: report.Skip, detail: "no DNS names"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := &Env{Target: &target.Target{Host: endpoint, Port: 6379, DNSNames: tc.names}, Resolver: dns, Addresses: []string{"10.0.1.5"}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			r := checkDNSNames(ctx, e)
			if r.Status != tc.status || !strings.Contains(strings.ToLower(r.Detail), strings.ToLower(tc.detail)) {
				t.Fatalf("got %s %q, want %s containing %q", r.Status, r.Detail, tc.status, tc.detail)
			}
		})
	}
}
