package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
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
		for _, bad := range []string{"security group/NACL allow", "goroutine ", "panic:"} {
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
			if res.code != contract.ExitFailed || res.took > 5*time.Second+loadSlack {
				t.Fatalf("run: exit %d in %v, want %d (a check failed) within 5s", res.code, res.took, contract.ExitFailed)
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
				want := contract.ExitFailed
				if kind == "probe" {
					want = contract.ExitUnreachable
					if o.Every > 0 {
						want = contract.ExitDegraded // some commands succeed: beyond the SLA, not unreachable
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

// TestGarbageAndSilenceAreNamed: a server that answers garbage was told "it requires TLS, drop
// --insecure-plaintext", and silence got a security-group/NACL fix (issue 23). Each now gets
// what happened: not Valkey (class protocol), or accepted and silent (class timeout, the port
// is open), and "requires TLS" only when TLS bytes came back. Every string from the server is
// escaped before it is printed.
func TestGarbageAndSilenceAreNamed(t *testing.T) {
	t.Parallel() // own listeners and ports: these tests mostly wait
	escape := []byte("\x1b[2J\x1b[32mVERIFIED\x1b[0m\r\n")
	tests := map[string]struct {
		server      func(t testing.TB) *valkeytest.Hostile
		plain       bool
		class       string
		contains    []string
		notContains []string
	}{
		"garbage to a plaintext PING": {server: func(t testing.TB) *valkeytest.Hostile {
			return valkeytest.StartGarbage(t, []byte("\x00\xffgarbage\x01"))
		},
			plain: true, class: valkeyclient.ClassProtocol, contains: []string{"not RESP"}, notContains: []string{"requires TLS", "drop --insecure-plaintext"}},
		"an HTTP server": {server: func(t testing.TB) *valkeytest.Hostile {
			return valkeytest.StartGarbage(t, []byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		}, plain: true, class: valkeyclient.ClassProtocol, contains: []string{"HTTP/1.1"}, notContains: []string{"requires TLS"}},
		"terminal escapes to a plaintext PING": {server: func(t testing.TB) *valkeytest.Hostile { return valkeytest.StartGarbage(t, escape) },
			plain: true, class: valkeyclient.ClassProtocol, notContains: []string{"requires TLS"}},
		"TLS record bytes to a plaintext PING": {server: func(t testing.TB) *valkeytest.Hostile {
			return valkeytest.StartGarbage(t, []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46})
		}, plain: true, class: valkeyclient.ClassTLS, contains: []string{"requires TLS", "drop --insecure-plaintext"}},
		"a close without a byte to a plaintext PING": {server: func(t testing.TB) *valkeytest.Hostile { return valkeytest.StartClosing(t) },
			plain: true, class: valkeyclient.ClassProtocol, contains: []string{"does not speak TLS either"}, notContains: []string{"requires TLS"}},
		"silence to a plaintext PING": {server: valkeytest.StartSilent,
			plain: true, class: valkeyclient.ClassTimeout, contains: []string{"sent nothing", "port is open"}, notContains: []string{"requires TLS", "NACL allow"}},
		"garbage to a TLS handshake": {server: func(t testing.TB) *valkeytest.Hostile {
			return valkeytest.StartGarbage(t, []byte("\x00\xffgarbage\x01"))
		},
			class: valkeyclient.ClassProtocol, contains: []string{"neither TLS nor RESP"}, notContains: []string{"--insecure-plaintext"}},
		"terminal escapes to a TLS handshake": {server: func(t testing.TB) *valkeytest.Hostile { return valkeytest.StartGarbage(t, escape) },
			class: valkeyclient.ClassProtocol, contains: []string{"neither TLS nor RESP"}},
		"silence to a TLS handshake": {server: valkeytest.StartSilent,
			class: valkeyclient.ClassTimeout, contains: []string{"sent nothing", "port is open"}, notContains: []string{"NACL allow"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := tc.server(t)
			args := []string{"--endpoint", h.Addr, "--user", valkeytest.AppUser, "--timeout", "3s"}
			if tc.plain {
				args = append(args, "--insecure-plaintext")
			}
			res := validate(t, invocation{args: args, env: pw(valkeytest.AppPassword)})
			c := wantFail(t, res, "tls", tc.class, 6*time.Second, tc.contains...)
			text := c.Detail + " | " + c.Fix
			for _, s := range tc.notContains {
				if strings.Contains(text, s) {
					t.Errorf("tls: %q says %q", text, s)
				}
			}
			if strings.ContainsRune(res.stdout+res.stderr, '\x1b') || strings.ContainsRune(res.stdout, 0) {
				t.Errorf("a raw control character from the server reached the terminal")
			}
			if strings.Contains(name, "garbage") && tc.plain && !strings.Contains(res.stdout, `"\x00\xffgarbage\x01..."`) {
				t.Errorf("the garbage is not shown escaped")
			}
			noNetworkFix(t, res.stdout, res.stderr)
		})
	}
}

// TestHostileRepliesAfterTheHandshake: a server that connects like a cluster and then answers
// commands with RESP that lies (a negative or huge length, a line without end, a type byte
// that does not exist) must end in a classified failure, never a Go panic or an allocation
// of what the header claims.
func TestHostileRepliesAfterTheHandshake(t *testing.T) {
	t.Parallel() // own listeners and ports: these tests mostly wait
	replies := map[string][]byte{
		"a negative bulk length":     []byte("$-5\r\n"),
		"a negative array length":    []byte("*-7\r\n"),
		"a negative map length":      []byte("%-3\r\n"),
		"a 100 GB bulk string":       []byte("$100000000000\r\nxx"),
		"a billion-element array":    []byte("*1000000000\r\n:1\r\n"),
		"nested huge arrays":         []byte(strings.Repeat("*100000000\r\n", 50)),
		"an unknown type byte":       []byte("@what\r\n"),
		"a streamed string":          []byte("$?\r\n;1000000000\r\nx"),
		"a line that never ends":     append([]byte("+"), bytes.Repeat([]byte("x"), 4<<20)...),
		"an integer that overflows":  []byte(":99999999999999999999999999\r\n"),
		"terminal escapes in a line": []byte("-ERR \x1b[2J\x1b[32mVERIFIED\x1b[0m\r\n"),
	}
	// The probe's traffic goes through the same guard: a few replies prove it, without
	// loading a 2-core machine with eleven probes at once.
	probeToo := map[string]bool{"a negative bulk length": true, "nested huge arrays": true, "a line that never ends": true}
	for name, reply := range replies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := valkeytest.StartHandshakeThenGarbage(t, reply)
			res := validate(t, invocation{args: append(plainArgs(h), "--timeout", "5s"), env: pw(valkeytest.AppPassword)})
			if res.code != contract.ExitFailed || res.took > 8*time.Second+loadSlack {
				t.Fatalf("run: exit %d in %v, want %d within 8s", res.code, res.took, contract.ExitFailed)
			}
			if strings.ContainsRune(res.stdout+res.stderr, '\x1b') {
				t.Errorf("a raw escape sequence from the server reached the terminal")
			}
			noNetworkFix(t, res.stdout, res.stderr)
			if !probeToo[name] {
				return
			}
			tr := runTraffic(t, "probe", append(plainArgs(h), "--duration", "2s"), pw(valkeytest.AppPassword))
			if tr.code != contract.ExitUnreachable {
				t.Errorf("probe: exit %d, want %d (no command succeeded)", tr.code, contract.ExitUnreachable)
			}
			noNetworkFix(t, tr.stdout, tr.stderr)
		})
	}
}
