package checks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// errEvicted means a key of this run vanished before its TTL while the server evicted keys.
var errEvicted = errors.New("evicted by the server")

// errVanished means a key of this run vanished before its TTL with no eviction counted.
var errVanished = errors.New("gone before its TTL")

// EvictedKeys reads evicted_keys from INFO stats on each of addrs (INFO is supported on
// ElastiCache Serverless). A node that does not answer is left out, not an error: eviction
// accounting must never fail the primary verdict.
func (e *Env) EvictedKeys(ctx context.Context, addrs []string) map[string]int64 {
	out := map[string]int64{}
	nodes := e.Client.Nodes()
	for _, addr := range addrs {
		n, ok := nodes[addr]
		if !ok {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, valkeyclient.NodeAskTimeout)
		info, err := n.Do(actx, n.B().Info().Section("stats").Build()).ToString()
		cancel()
		if err != nil {
			continue
		}
		if v, ok := infoField(info, "evicted_keys"); ok {
			out[addr] = v
		}
	}
	return out
}

// infoField returns an integer field of an INFO reply.
func infoField(info, name string) (int64, bool) {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// evictedSince returns how many keys the primaries evicted since the auth check's baseline.
func (e *Env) evictedSince(ctx context.Context) (delta int64, now map[string]int64) {
	if e.Client == nil || e.Evictions == nil {
		return 0, nil
	}
	now = e.EvictedKeys(ctx, e.primaries(ctx))
	for addr, v := range now {
		if b, ok := e.Evictions[addr]; ok && v > b {
			delta += v - b
		}
	}
	return delta, now
}

// goneErr explains why a key of this run is missing: evicted (the server counted evictions
// during the run) or gone for another reason. Never "value mismatch".
func (e *Env) goneErr(ctx context.Context, key string) error {
	if d, _ := e.evictedSince(ctx); d > 0 {
		return fmt.Errorf("key %s is gone: %w (evicted_keys rose by %d during the run: the cache is at its memory limit and its maxmemory-policy evicts keys with a TTL)", key, errEvicted, d)
	}
	return fmt.Errorf("key %s is %w (evicted_keys did not change: something deleted it)", key, errVanished)
}

// evictionResult adds the run's eviction delta to a cleanup result: a warning, because the
// cache lost keys (sessions of applications among them) while the validator wrote its own.
func (e *Env) evictionResult(ctx context.Context, r report.Result) report.Result {
	if e.Evictions == nil {
		return r
	}
	d, now := e.evictedSince(ctx)
	if r.Evidence == nil {
		r.Evidence = map[string]any{}
	}
	r.Evidence["evictedKeys"] = map[string]any{"before": e.Evictions, "after": now, "delta": d}
	if d > 0 {
		if r.Status == report.Pass {
			r.Status = report.Warn
		}
		r.Detail += fmt.Sprintf("; WARNING: the cache evicted %d key(s) during the run (evicted_keys before/after): it is at its memory limit and is losing keys with a TTL, such as sessions; the validator deleted none of them", d)
		if r.Fix == "" {
			r.Fix = "raise the cache's data storage limit (CacheUsageLimits) before relying on it"
		}
	} else {
		r.Detail += "; no evictions during the run (evicted_keys unchanged)"
	}
	return r
}
