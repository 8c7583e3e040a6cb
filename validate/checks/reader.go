package checks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

var errNotYet = errors.New("value not replicated yet")

// lagProbeAfter is how long the read port may miss the key before the primary is asked
// whether it still has it (an evicted key is not replication lag).
const lagProbeAfter = 500 * time.Millisecond

// errRedirected means the read port answered MOVED: it sent the read to the primary instead
// of serving it.
var errRedirected = errors.New("the read port redirected the GET (MOVED) instead of serving it")

// checkReader reads the set-get key THROUGH the read port: one connection to the reader
// address (no cluster client, which would follow the slot map back to the primary), READONLY
// on it (ElastiCache Serverless serves reads on 6380 only after READONLY: ReadReplicas.html),
// then GET on the same connection. Replicas are eventually consistent, so a missing value is
// retried until the deadline; the failure then says how long the lag was.
func checkReader(ctx context.Context, e *Env) report.Result {
	addr := e.readerAddr()
	if addr == "" {
		return skip(noReader)
	}
	ev := map[string]any{"address": addr}
	opt := e.ClientOption(addr)
	// One node, one connection: the read must be answered where it was sent.
	opt.ForceSingleClient = true
	var rc valkey.Client
	attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
		var err error
		rc, err = valkeyclient.NewClientWith(ctx, opt)
		return err
	})
	if err != nil {
		r := failErr(err, "connect to the read port "+addr, ev)
		r.Attempts = attempts
		return r
	}
	defer rc.Close()
	readonly := e.ServerCluster
	ev["readonly"] = readonly
	start := time.Now()
	var nodeID string
	a, err := retryNotYet(ctx, func(ctx context.Context) error {
		return rc.Dedicated(func(d valkey.DedicatedClient) error {
			cmds := valkey.Commands{}
			if readonly {
				cmds = append(cmds, d.B().Readonly().Build(), d.B().ClusterMyid().Build())
			}
			cmds = append(cmds, d.B().Get().Key(e.SetGetKey).Build())
			res := d.DoMulti(ctx, cmds...)
			if readonly {
				if err := res[0].Error(); err != nil {
					return fmt.Errorf("READONLY: %w", err)
				}
				nodeID, _ = res[1].ToString()
			}
			got, err := res[len(res)-1].ToString()
			switch {
			case valkey.IsValkeyNil(err) && time.Since(start) > lagProbeAfter && e.Client != nil:
				// Lag, or is the key gone on the primary too (evicted)? Ask the primary.
				if perr := e.Client.Do(ctx, e.Client.B().Get().Key(e.SetGetKey).Build()).Error(); valkey.IsValkeyNil(perr) {
					return e.goneErr(ctx, e.SetGetKey)
				}
				return errNotYet
			case valkey.IsValkeyNil(err):
				return errNotYet
			case valkeyclient.ReplyCode(err) == "MOVED":
				return fmt.Errorf("%w: %v", errRedirected, err)
			case err != nil:
				return err
			case got != e.SetGetValue:
				return fmt.Errorf("the read port returned a different value than the primary stored: %w", errMismatch)
			}
			return nil
		})
	})
	attempts += a
	took := time.Since(start)
	ev["readMs"], ev["nodeId"] = report.Ms(took), nodeID
	fail := func(r report.Result) report.Result {
		r.Attempts = attempts
		return r
	}
	switch {
	case errors.Is(err, errNotYet):
		lag := time.Since(e.SetGetAt).Round(time.Millisecond)
		ev["lagMs"] = report.Ms(lag)
		return fail(failProblem(valkeyclient.Problem{Class: valkeyclient.ClassData,
			Msg: fmt.Sprintf("the read port %s still had no value %v after the primary acknowledged it (%d reads): replication lag beyond the check's deadline", addr, lag, attempts),
			Fix: "check the cache's replication (ReplicationLag metric); a read-port fault never fails the primary over"}, ev))
	case errors.Is(err, errRedirected):
		return fail(failProblem(valkeyclient.Problem{Class: valkeyclient.ClassServer, Msg: fmt.Sprintf("GET via %s: %v", addr, err),
			Fix: "the read port must serve reads after READONLY: check it is the cache's read port (ElastiCache Serverless: 6380)"}, ev))
	case errors.Is(err, errEvicted) || errors.Is(err, errVanished):
		return fail(failProblem(valkeyclient.Problem{Class: valkeyclient.ClassData, Msg: fmt.Sprintf("GET via %s: %v", addr, err),
			Fix: "raise the cache's data storage limit (CacheUsageLimits): a session cache that evicts loses sessions"}, ev))
	case errors.Is(err, errMismatch):
		return fail(failProblem(valkeyclient.Problem{Class: valkeyclient.ClassData, Msg: fmt.Sprintf("GET via %s: %v", addr, err)}, ev))
	case err != nil:
		return fail(failCmd(err, "READONLY + GET via the read port "+addr, ev))
	}
	who := addr
	if nodeID != "" {
		who = fmt.Sprintf("%s (node %s)", addr, nodeID)
	}
	how := "READONLY, then GET on one connection"
	if !readonly {
		how = "GET on one connection (standalone server: no READONLY)"
	}
	return fail(pass(fmt.Sprintf("answered by the read port %s: %s returned the value written through the primary (%s, %d attempt(s))",
		who, how, took.Round(time.Microsecond), a), ev))
}

// retryNotYet is retry that also retries errNotYet (replication lag).
func retryNotYet(ctx context.Context, fn func(ctx context.Context) error) (int, error) {
	attempts := 0
	for {
		a, err := valkeyclient.Retry(ctx, fn)
		attempts += a
		if !errors.Is(err, errNotYet) {
			return attempts, err
		}
		select {
		case <-ctx.Done():
			return attempts, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}
