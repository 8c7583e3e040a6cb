package checks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// checkPing sends PING to every primary node the client knows (every shard, in cluster
// mode). Read-only nodes (the read port) are the reader checks' business: a stalled replica
// must not fail the primary path.
func checkPing(ctx context.Context, e *Env) report.Result {
	nodes := e.Client.Nodes()
	var maxRTT time.Duration
	rtts := map[string]float64{}
	total := 0
	primaries := e.primaries(ctx)
	for _, addr := range primaries {
		n := nodes[addr]
		var rtt time.Duration
		attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
			start := time.Now()
			s, err := n.Do(ctx, n.B().Ping().Build()).ToString()
			rtt = time.Since(start)
			if err == nil && s != "PONG" {
				return fmt.Errorf("PING answered %q, want PONG", s)
			}
			return err
		})
		total += attempts
		if err != nil {
			r := failErr(err, "PING "+addr, map[string]any{"rttMs": rtts})
			r.Attempts = total
			return r
		}
		rtts[addr] = report.Ms(rtt)
		maxRTT = max(maxRTT, rtt)
	}
	detail := fmt.Sprintf("PONG from %d/%d primary node(s), max RTT %s", len(rtts), len(primaries), maxRTT.Round(time.Microsecond))
	if len(e.ReadOnlyNodes) > 0 {
		detail += fmt.Sprintf("; read-only node(s) %s left to the reader checks", strings.Join(e.ReadOnlyNodes, ", "))
	}
	r := pass(detail, map[string]any{"rttMs": rtts, "readOnlyNodes": e.ReadOnlyNodes})
	r.Attempts = total
	return r
}
