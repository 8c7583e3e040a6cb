package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
)

// checkPing sends PING to every node the client knows (every shard, in cluster mode).
func checkPing(ctx context.Context, e *Env) report.Result {
	nodes := e.Client.Nodes()
	var maxRTT time.Duration
	rtts := map[string]float64{}
	total := 0
	for _, addr := range nodeAddrs(e.Client) {
		n := nodes[addr]
		var rtt time.Duration
		attempts, err := retry(ctx, func(ctx context.Context) error {
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
	r := pass(fmt.Sprintf("PONG from %d/%d node(s), max RTT %s", len(rtts), len(nodes), maxRTT.Round(time.Microsecond)),
		map[string]any{"rttMs": rtts})
	r.Attempts = total
	return r
}
