// The profile harness's spin=µs variant (bench/README-watch.md): a TCP connection whose reads
// poll the socket for a bounded time before parking the goroutine on Go's netpoller. Measured,
// not shipped in watch.
//
// Why try it: with a few commands in flight, a reply is usually microseconds away, and parking the
// reading goroutine and waking it through the netpoller costs tens of microseconds on top of the
// server's latency (measured: bench/README-watch.md). A load generator with a core of its own
// then measures Go's scheduler as much as the cache. Polling trades that client CPU for latency
// that is the server's; on a machine where the client shares cores with the server it takes CPU
// the server needs.
package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// pollConn is a TCP connection whose Read polls the socket for up to Spin before waiting for it.
// Deadlines are the TCP connection's (SetDeadline reaches it): a wait still ends at the read
// deadline, and a poll never runs past Spin.
type pollConn struct {
	net.Conn
	raw  syscall.RawConn
	spin time.Duration
}

// pollWrap returns tcp with polling reads of up to spin; tcp must be a *net.TCPConn.
func pollWrap(tcp net.Conn, spin time.Duration) (*pollConn, error) {
	tc, ok := tcp.(*net.TCPConn)
	if !ok {
		return nil, errors.New("spin: not a TCP connection")
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &pollConn{Conn: tcp, raw: raw, spin: spin}, nil
}

// Read reads into p as net.Conn's Read, polling for up to the connection's spin first.
func (c *pollConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	until := time.Now().Add(c.spin)
	// RawConn.Read calls f at once, and again each time the netpoller says the socket is
	// readable, until f returns true (or the read deadline passes).
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), p)
			if rerr == syscall.EINTR {
				continue
			}
			if rerr == syscall.EAGAIN {
				if time.Now().Before(until) {
					continue
				}
				return false
			}
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: rerr}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// pollDialCtxFn is a valkey-go ClientOption.DialCtxFn dialing TCP with the client's dialer, polling
// reads of up to spin, and TLS over that when the client has a TLS config.
func pollDialCtxFn(spin time.Duration) func(ctx context.Context, dst string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
	return func(ctx context.Context, dst string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
		tcp, err := d.DialContext(ctx, "tcp", dst)
		if err != nil {
			return nil, err
		}
		pc, err := pollWrap(tcp, spin)
		if err != nil {
			tcp.Close()
			return nil, err
		}
		if cfg == nil {
			return pc, nil
		}
		// As tls.Dialer does: the server name from dst unless the config names one.
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(dst)
			if err != nil {
				tcp.Close()
				return nil, err
			}
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
		tc := tls.Client(pc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			tcp.Close()
			return nil, err
		}
		return tc, nil
	}
}
