package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// checkReconnect drops the validator's own connections and proves the next commands succeed
// on fresh ones: server-side with CLIENT KILL ID <own id> SKIPME no where the user may (the
// closest thing to a node restart or an idle-connection reap), else by closing the client and
// connecting again (what an application does after a failover, and the only way on
// ElastiCache Serverless, which refuses CLIENT ID and CLIENT KILL). Primary nodes only.
func checkReconnect(ctx context.Context, e *Env) report.Result {
	ev := map[string]any{}
	method := "client-kill"
	oldIDs := map[string]int64{}
	for _, addr := range e.primaries(ctx) {
		n := e.Client.Nodes()[addr]
		id, err := n.Do(ctx, n.B().ClientId().Build()).AsInt64()
		if err == nil {
			// The reply may be lost when the server closes the connection right after it.
			err = n.Do(ctx, n.B().ClientKill().Id(id).SkipmeNo().Build()).Error()
			if err != nil && valkeyclient.ReplyCode(err) == "" {
				err = nil
			}
		}
		if err != nil {
			if valkeyclient.ReplyCode(err) == "" {
				return failCmd(err, "CLIENT ID/KILL on "+addr, ev)
			}
			// NOPERM or unsupported: fall back to dropping the connections client-side.
			method = "close-and-reconnect"
			ev["clientKillRefused"] = err.Error()
			break
		}
		oldIDs[addr] = id
	}
	ev["method"] = method
	start := time.Now()
	attempts := 0
	if method == "close-and-reconnect" {
		e.Client.Close()
		e.Client = nil
		a, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
			c, err := e.NewClient(ctx, e.Target.Addr())
			if err == nil {
				e.Client = c
			}
			return err
		})
		attempts += a
		if err != nil {
			r := failErr(err, "reconnect to "+e.Target.Addr(), ev)
			r.Attempts = attempts
			return r
		}
	}
	newIDs := map[string]int64{}
	primaries := e.primaries(ctx)
	for _, addr := range primaries {
		n := e.Client.Nodes()[addr]
		a, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
			if err := n.Do(ctx, n.B().Ping().Build()).Error(); err != nil {
				return err
			}
			if method == "client-kill" {
				id, err := n.Do(ctx, n.B().ClientId().Build()).AsInt64()
				if err != nil {
					return err
				}
				newIDs[addr] = id
			}
			return nil
		})
		attempts += a
		if err != nil {
			r := failErr(err, "first command after dropping connections, on "+addr, ev)
			r.Attempts = attempts
			return r
		}
		if method == "client-kill" && newIDs[addr] == oldIDs[addr] {
			return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassNetwork,
				Msg: fmt.Sprintf("%s: CLIENT KILL did not drop the connection (same client id %d)", addr, oldIDs[addr])}, ev)
		}
	}
	took := time.Since(start)
	ev["recoverMs"], ev["oldClientIds"], ev["newClientIds"] = report.Ms(took), oldIDs, newIDs
	r := pass(fmt.Sprintf("dropped own connections (%s) on %d node(s); next commands succeeded on fresh connections in %s",
		method, len(primaries), took.Round(time.Microsecond)), ev)
	r.Attempts = attempts
	return r
}
