package checks

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
)

// ports returns the primary and (when known and different) reader addresses.
func (e *Env) ports() []string {
	addrs := []string{e.Target.Addr()}
	if ra := e.Target.ReaderAddr(); ra != "" && ra != addrs[0] {
		addrs = append(addrs, ra)
	}
	return addrs
}

// checkTCP connects to the primary port and the reader port; refused is retried (a security
// group change or a node start can heal it) until the deadline.
func checkTCP(ctx context.Context, e *Env) report.Result {
	var lines []string
	var conns []map[string]any
	for _, addr := range e.ports() {
		var d net.Dialer
		var conn net.Conn
		start := time.Now()
		attempts, err := retry(ctx, func(ctx context.Context) error {
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
