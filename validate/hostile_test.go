package main

import (
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// Hostile servers (issue 23): tiny Go listeners that are not Valkey (internal/valkeytest
// hostile.go). Each test shows the safe outcome: a verdict that names what happened, the
// right exit code, bounded time and bounded connections (the resource a redirect loop grew
// to 3 GB before).

// plainArgs points a command at a plaintext hostile server.
func plainArgs(h *valkeytest.Hostile) []string {
	return []string{"--endpoint", h.Addr, "--insecure-plaintext", "--user", valkeytest.AppUser}
}

// noNetworkFix fails when a redirect loop is blamed on the network.
func noNetworkFix(t *testing.T, out ...string) {
	t.Helper()
	for _, o := range out {
		for _, bad := range []string{"NACL", "security group", "goroutine ", "panic"} {
			if strings.Contains(o, bad) {
				t.Errorf("output mentions %q:\n%s", bad, o)
			}
		}
	}
}

// maxLoopConns bounds the connections open at once to a redirect loop during one command:
// two guarded clients (the pre-checks' and the traffic's, whose replaced connections valkey-go
// closes 5 s late, so they overlap), each its one pipelined connection plus the guard's
// allowance, and the pre-checks' own probes (tcp, the plaintext PING).
const maxLoopConns = 2*(1+valkeyclient.RedirectConnsPerNode) + 4

func TestRedirectLoopIsAVerdict(t *testing.T) {
	t.Parallel() // own listeners and ports: these tests mostly wait
	servers := map[string]valkeytest.RedirectOptions{
		"MOVED to itself after a normal handshake":       {Handshake: true},
		"ASK to itself after a normal handshake":         {Handshake: true, Ask: true},
		"MOVED to itself from the first command (HELLO)": {},
		"every other command bounced to itself":          {Handshake: true, Every: 2},
	}
	for name, o := range servers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := valkeytest.StartRedirectLoop(t, o)
			bounded := func(h *valkeytest.Hostile, what string) {
				t.Helper()
				if n := h.MaxOpen(); n > maxLoopConns {
					t.Errorf("%s: %d connections open at once to the loop, want at most %d", what, n, maxLoopConns)
				}
			}
			res := validate(t, invocation{args: plainArgs(h), env: pw(valkeytest.AppPassword)})
			bounded(h, "run")
			if res.code != exitFailed || res.took > 5*time.Second+loadSlack {
				t.Fatalf("run: exit %d in %v, want %d (a check failed) within 5s", res.code, res.took, exitFailed)
			}
			if o.Every == 0 {
				redirect := false
				for _, c := range res.report.Checks {
					if c.ErrorClass == valkeyclient.ClassRedirect && strings.Contains(c.Detail, "a redirect loop, not a network problem") {
						redirect = true
					}
				}
				if !redirect {
					t.Errorf("no check failed with class %s and a true message", valkeyclient.ClassRedirect)
				}
			}
			noNetworkFix(t, res.stdout, res.stderr)

			for _, kind := range []string{"watch", "probe"} {
				h := valkeytest.StartRedirectLoop(t, o) // its own count of connections
				tr := runTraffic(t, kind, append(plainArgs(h), "--duration", "5s", "--interval", "1s"), pw(valkeytest.AppPassword))
				want := exitFailed
				if kind == "probe" {
					want = exitUnreachable
					if o.Every > 0 {
						want = exitDegraded // some commands succeed: beyond the SLA, not unreachable
					}
				}
				if tr.code != want {
					t.Errorf("%s: exit %d, want %d", kind, tr.code, want)
				}
				// Stopped early (the loop is a verdict), cleanup included: not 3x --duration.
				if tr.took > 5*time.Second+loadSlack {
					t.Errorf("%s took %v for --duration 5s", kind, tr.took)
				}
				if o.Handshake && o.Every == 0 && !strings.Contains(tr.ev.Reason, "redirects every command to itself") {
					t.Errorf("%s: reason %q does not say the server redirects every command to itself", kind, tr.ev.Reason)
				}
				if !strings.Contains(tr.ev.Reason, "redirect") {
					t.Errorf("%s: reason %q does not name the redirects", kind, tr.ev.Reason)
				}
				if strings.Contains(tr.stdout, "0.000ms >") {
					t.Errorf("%s: a latency verdict over no successful command:\n%s", kind, tr.stdout)
				}
				noNetworkFix(t, tr.stdout, tr.stderr)
				bounded(h, kind)
			}
		})
	}
}
