package checks

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// readerAddr returns the read port's address when it is known and not the primary's.
func (e *Env) readerAddr() string {
	if ra := e.Target.ReaderAddr(); ra != e.Target.Addr() {
		return ra
	}
	return ""
}

// noReader is why the reader-path checks skip.
const noReader = "no reader port known: pass --reader-port (ElastiCache Serverless: 6380) or use --outputs"

// checkTCP connects to the primary port; refused is retried (a security group change or a
// node start can heal it) until the deadline.
func checkTCP(ctx context.Context, e *Env) report.Result { return tcpTo(ctx, e.Target.Addr()) }

// checkReaderTCP is checkTCP for the read port: its own row, so a read-port fault is a
// reader-path failure and never a primary one.
func checkReaderTCP(ctx context.Context, e *Env) report.Result {
	addr := e.readerAddr()
	if addr == "" {
		return skip(noReader)
	}
	return tcpTo(ctx, addr)
}

func tcpTo(ctx context.Context, addrs ...string) report.Result {
	var lines []string
	var conns []map[string]any
	for _, addr := range addrs {
		var d net.Dialer
		var conn net.Conn
		start := time.Now()
		attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
			var err error
			conn, err = d.DialContext(ctx, "tcp", addr)
			return err
		})
		if err != nil {
			r := failErr(err, "TCP connect to "+addr, map[string]any{"connections": conns})
			r.Attempts = attempts
			return r
		}
		took := time.Since(start)
		conns = append(conns, map[string]any{"address": addr, "remote": conn.RemoteAddr().String(),
			"local": conn.LocalAddr().String(), "connectMs": report.Ms(took), "attempts": attempts})
		conn.Close()
		lines = append(lines, fmt.Sprintf("%s open (%s)", addr, conn.RemoteAddr()))
	}
	return pass(strings.Join(lines, "; "), map[string]any{"connections": conns})
}
