package valkeyclient

import (
	"context"
	"errors"
	"fmt"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-io/valkey-go"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSlot(t *testing.T) {
	tests := map[string]struct {
		key    string
		wanted uint16
	}{
		"the CRC16 test vector":               {key: "123456789", wanted: 0x31C3 % 16384},
		"a hash tag hashes only the tag":      {key: "a{123456789}b", wanted: 0x31C3 % 16384},
		"an empty hash tag hashes the key":    {key: "{}x", wanted: Slot("{}x")},
		"the documented example foo is 12182": {key: "foo", wanted: 12182},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Slot(tc.key); got != tc.wanted {
				t.Fatalf("Slot(%q) = %d, want %d", tc.key, got, tc.wanted)
			}
		})
	}
}

func TestHealable(t *testing.T) {
	tests := map[string]struct {
		err    error
		wanted bool
	}{
		"NXDOMAIN can heal (record not propagated)": {err: &net.DNSError{IsNotFound: true}, wanted: true},
		"connection refused can heal":               {err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED), wanted: true},
		"connection reset can heal":                 {err: syscall.ECONNRESET, wanted: true},
		"EOF can heal":                              {err: io.EOF, wanted: true},
		"a deadline cannot heal":                    {err: context.DeadlineExceeded, wanted: false},
		"a plain error cannot heal":                 {err: errors.New("x"), wanted: false},
		"nil is not an error":                       {err: nil, wanted: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Healable(tc.err); got != tc.wanted {
				t.Fatalf("Healable(%v) = %v", tc.err, got)
			}
		})
	}
}

func TestRetryStopsAtTheDeadlineWithTheHealableError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	n, err := Retry(ctx, func(context.Context) error { return syscall.ECONNREFUSED })
	if time.Since(start) > 3*time.Second || n < 3 || !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "until the deadline") {
		t.Fatalf("attempts %d, err %v, took %v", n, err, time.Since(start))
	}
	n, err = Retry(context.Background(), func(context.Context) error { return errors.New("WRONGPASS-like") })
	if n != 1 || err == nil {
		t.Fatalf("a non-healable error was retried: %d %v", n, err)
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]struct {
		err   error
		class string
		msg   string
	}{
		"refused":            {err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED), class: ClassRefused, msg: "connection refused"},
		"deadline":           {err: context.DeadlineExceeded, class: ClassTimeout, msg: "no answer before the deadline"},
		"nxdomain":           {err: &net.DNSError{Name: "x.invalid", IsNotFound: true}, class: ClassDNS, msg: `"x.invalid" does not resolve`},
		"eof says maybe TLS": {err: io.EOF, class: ClassNetwork, msg: "closed the connection"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := Classify(tc.err, "op")
			if p.Class != tc.class || !strings.Contains(p.Msg, tc.msg) {
				t.Fatalf("Classify = %+v", p)
			}
		})
	}
}

// TestRedirectLoopBounded drives a client against a server that redirects every command to
// itself (issue 23): each command ends on the redirect after RedirectsPerCommand, classified
// as a redirect loop (never a network fix), and the guard keeps the connections bounded however
// many commands are sent (before: one new connection per redirect, 3 GB).
func TestRedirectLoopBounded(t *testing.T) {
	for name, o := range map[string]valkeytest.RedirectOptions{
		"MOVED":                     {Handshake: true},
		"ASK":                       {Handshake: true, Ask: true},
		"every other command MOVED": {Handshake: true, Every: 2},
	} {
		t.Run(name, func(t *testing.T) {
			h := valkeytest.StartRedirectLoop(t, o)
			opt := valkey.ClientOption{InitAddress: []string{h.Addr}, DisableCache: true, DisableRetry: true,
				PipelineMultiplex: -1, ClientSetInfo: valkey.DisableClientSetInfo}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			c, _, err := NewGuardedClient(ctx, opt)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer c.Close()
			start := time.Now()
			var redirected int
			for i := range 500 {
				err := c.Do(ctx, c.B().Set().Key("k"+strconv.Itoa(i)).Value("v").Build()).Error()
				if err == nil {
					continue
				}
				p := Classify(err, "SET")
				if p.Class != ClassRedirect || !strings.Contains(p.Msg, "a redirect loop, not a network problem") || strings.Contains(p.Fix, "NACL") {
					t.Fatalf("SET: %+v, want class %s with a true message", p, ClassRedirect)
				}
				if !IsRedirectLoop(err) || Healable(err) {
					t.Fatalf("SET: %v: IsRedirectLoop %v, Healable %v", err, IsRedirectLoop(err), Healable(err))
				}
				redirected++
			}
			if redirected == 0 && o.Every == 0 {
				t.Fatalf("no command ended on a redirect")
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("500 commands took %v", took)
			}
			if n := h.MaxOpen(); n > 1+RedirectConnsPerNode+1 {
				t.Errorf("%d connections open at once, want at most %d", n, 1+RedirectConnsPerNode+1)
			}
		})
	}
}

// TestGuardRefusesPastTheLayout: the guard lets a client hold its layout's connections plus
// RedirectConnsPerNode open to one node, refuses the next dial as a redirect loop (class
// redirect, never healable), and dials again once one closed.
func TestGuardRefusesPastTheLayout(t *testing.T) {
	h := valkeytest.StartSilent(t)
	opt := valkey.ClientOption{PipelineMultiplex: 1} // two pipelined connections
	g := GuardClient(&opt)
	if opt.ClusterOption.MaxMovedRedirections != RedirectsPerCommand {
		t.Fatalf("MaxMovedRedirections %d, want %d", opt.ClusterOption.MaxMovedRedirections, RedirectsPerCommand)
	}
	limit := 2 + RedirectConnsPerNode
	var conns []net.Conn
	for i := range limit {
		c, err := opt.DialCtxFn(t.Context(), h.Addr, &net.Dialer{}, nil)
		if err != nil {
			t.Fatalf("dial %d of %d refused: %v", i+1, limit, err)
		}
		conns = append(conns, c)
	}
	_, err := opt.DialCtxFn(t.Context(), h.Addr, &net.Dialer{}, nil)
	if !errors.Is(err, ErrRedirectLoop) || Classify(err, "connect").Class != ClassRedirect || Healable(err) {
		t.Fatalf("dial past the limit: %v, want ErrRedirectLoop (class %s, not healable)", err, ClassRedirect)
	}
	if addr, ok := g.Looped(); !ok || addr != h.Addr {
		t.Errorf("Looped() = %q, %v", addr, ok)
	}
	conns[0].Close()
	conns[0].Close() // counted once
	c, err := opt.DialCtxFn(t.Context(), h.Addr, &net.Dialer{}, nil)
	if err != nil {
		t.Fatalf("dial after a close refused: %v", err)
	}
	c.Close()
	for _, c := range conns[1:] {
		c.Close()
	}
}

// chunkConn delivers data a few bytes per Read, as a slow network would.
type chunkConn struct {
	net.Conn
	data  []byte
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestRespGuard: valid RESP2/RESP3 passes unchanged whatever the chunking; a header past the
// bounds or not RESP fails the read before its newline is delivered.
func TestRespGuard(t *testing.T) {
	valid := "+OK\r\n-ERR x\r\n:-12\r\n$-1\r\n*-1\r\n$0\r\n\r\n$5\r\nhe\r\nl\r\n*2\r\n*1\r\n:1\r\n$3\r\nabc\r\n" +
		"%1\r\n+k\r\n~1\r\n_\r\n|1\r\n+a\r\n+b\r\n:7\r\n>2\r\n+p\r\n#t\r\n,1.5\r\n(123\r\n=7\r\ntxt:abc\r\n"
	for _, chunk := range []int{1, 3, 4096} {
		g := guardReplies(&chunkConn{data: []byte(valid), chunk: chunk})
		got, err := io.ReadAll(g)
		if err != nil || string(got) != valid {
			t.Fatalf("chunk %d: %q, %v; want the valid stream unchanged", chunk, got, err)
		}
	}
	for name, bad := range map[string]string{
		"negative bulk":      "$-5\r\n",
		"huge bulk":          "$100000000000\r\n",
		"huge array":         "*1000000000\r\n",
		"nested arrays":      strings.Repeat("*1000000\r\n", 2),
		"unknown type":       "@x\r\n",
		"streamed":           "$?\r\n",
		"endless line":       "+" + strings.Repeat("x", MaxReplyLine+1),
		"integer overflow":   ":99999999999999999999\r\n",
		"after a good reply": "+OK\r\n\x00",
	} {
		for _, chunk := range []int{1, 4096} {
			g := guardReplies(&chunkConn{data: []byte(bad), chunk: chunk})
			got, err := io.ReadAll(g)
			if !errors.Is(err, ErrNotRESP) {
				t.Errorf("%s (chunk %d): %v, want ErrNotRESP", name, chunk, err)
			}
			if i := strings.LastIndexByte(bad, '\n'); i >= 0 && len(got) > i && name != "after a good reply" {
				t.Errorf("%s (chunk %d): the offending header's newline was delivered", name, chunk)
			}
			if p := Classify(err, "GET"); p.Class != ClassProtocol {
				t.Errorf("%s: class %s, want %s", name, p.Class, ClassProtocol)
			}
		}
	}
}
