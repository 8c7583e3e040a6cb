package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// checkClusterMode fails when the server runs in cluster mode but the client is not a cluster
// client. valkey-go discovers the topology with CLUSTER SHARDS / CLUSTER SLOTS; when the ACL
// user may not run them it falls back to a single-node client without a word, and every key
// outside that node's slots then fails with MOVED in production.
func checkClusterMode(ctx context.Context, e *Env) report.Result {
	mode := e.Client.Mode()
	ev := map[string]any{"serverMode": orUnknown(e.Server.Mode), "serverCluster": e.ServerCluster,
		"clientMode": string(mode), "nodes": e.Server.Nodes}
	switch {
	case !e.ServerModeKnown:
		return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassMode,
			Msg: "cannot tell whether the server runs in cluster mode: HELLO reported no mode and INFO cluster was refused",
			Fix: "allow the user +hello (or +info) so the mode can be checked"}, ev)
	case e.ServerCluster && mode != valkey.ClientModeCluster:
		var refused []string
		for _, sub := range []string{"SHARDS", "SLOTS"} {
			err := e.Client.Do(ctx, e.Client.B().Arbitrary("CLUSTER", sub).Build()).Error()
			if valkeyclient.ReplyCode(err) == "NOPERM" {
				refused = append(refused, "cluster|"+strings.ToLower(sub))
			}
			ev["cluster"+strings.ToLower(sub)+"Error"] = errStr(err)
		}
		fix := "the user lacks +cluster|shards and +cluster|slots: add them to the access string (valkey-go discovers the cluster topology with them)"
		why := "the user may not discover the topology"
		if len(refused) > 0 {
			why = "NOPERM on " + strings.Join(refused, ", ")
		}
		return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassMode,
			Msg: fmt.Sprintf("server runs in cluster mode but the client fell back to a single node (%s): keys on other shards would fail", why),
			Fix: fix}, ev)
	case !e.ServerCluster:
		detail := "standalone server, standalone client"
		r := pass(detail, ev)
		if e.Target.Source.OutputsFile != "" {
			r.Status = report.Warn
			r.Detail = detail + ": ElastiCache Serverless always runs in cluster mode; is this the right endpoint?"
		}
		return r
	}
	return pass(fmt.Sprintf("cluster mode engaged: cluster client over %d node(s): %s", len(e.Server.Nodes), strings.Join(e.Server.Nodes, ", ")), ev)
}
