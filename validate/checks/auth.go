package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// checkAuth creates the validator's client (connect, TLS, HELLO with AUTH, topology discovery)
// and records what HELLO says about the server.
func checkAuth(ctx context.Context, e *Env) report.Result {
	addr := e.Target.Addr()
	var c valkey.Client
	attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
		var err error
		c, err = e.NewClient(ctx, addr)
		return err
	})
	who := describeAuth(e.Target.Auth)
	ev := map[string]any{"auth": string(e.Target.Auth.Mode), "user": e.Target.Auth.User}
	if err != nil {
		r := failErr(err, fmt.Sprintf("connect to %s as %s", addr, who), ev)
		r.Attempts = attempts
		return r
	}
	e.Client = c
	e.Server.ClientMode = string(c.Mode())
	e.Server.Nodes = valkeyclient.NodeAddrs(c)

	// HELLO and INFO carry no key: a cluster client would send them to a random node, and one
	// unresponsive node would then stall a check about the endpoint. Ask the endpoint's node
	// when the client knows it by that address.
	var seed valkey.Client = c
	if n, ok := c.Nodes()[addr]; ok {
		seed = n
	}
	hello, helloErr := seed.Do(ctx, seed.B().Hello().Protover(3).Build()).AsMap()
	if helloErr == nil {
		str := func(k string) string {
			m := hello[k]
			s, _ := m.ToString()
			return s
		}
		e.Server.Server, e.Server.Version, e.Server.Mode, e.Server.Role = str("server"), str("version"), str("mode"), str("role")
		proto := hello["proto"]
		e.Server.Proto, _ = proto.AsInt64()
		switch e.Server.Mode {
		case "cluster":
			e.ServerCluster, e.ServerModeKnown = true, true
		case "standalone":
			e.ServerModeKnown = true
		}
	} else {
		ev["helloError"] = helloErr.Error()
	}
	if !e.ServerModeKnown {
		// HELLO did not say (or was refused): INFO cluster has cluster_enabled.
		if info, err := seed.Do(ctx, seed.B().Info().Section("cluster").Build()).ToString(); err == nil {
			e.ServerModeKnown = true
			e.ServerCluster = strings.Contains(info, "cluster_enabled:1")
		}
	}
	ev["hello"] = e.Server
	// The eviction baseline: cleanup reports how many keys the cache evicted during the run.
	e.Evictions = e.EvictedKeys(ctx, e.primaries(ctx))
	ev["evictedKeysBefore"] = e.Evictions
	detail := fmt.Sprintf("authenticated as %s; %s %s, mode %s, RESP%d", who, e.Server.Server, e.Server.Version,
		orUnknown(e.Server.Mode), e.Server.Proto)
	r := pass(detail, ev)
	r.Attempts = attempts
	return r
}

func describeAuth(a target.Auth) string {
	switch a.Mode {
	case contract.AuthPassword:
		return fmt.Sprintf("%q (password from %s)", a.User, a.PasswordSource)
	case contract.AuthIAM:
		return fmt.Sprintf("%q (IAM token for cache %s in %s)", a.User, a.CacheName, a.Region)
	default:
		return "the default user (no AUTH)"
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
