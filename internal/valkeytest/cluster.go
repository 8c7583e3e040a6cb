package valkeytest

import (
	"context"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// Cluster is a running cluster of three masters without replicas.
type Cluster struct {
	Nodes []*Server // exactly three masters; together they serve all 16384 slots
	CA    *CA       // the CA of every node certificate; nil without TLS

	c *localvalkey.Cluster
}

// StartCluster starts three cluster-enabled servers, joins them with
// valkey-cli --cluster create, and waits (up to ClusterTimeout) until every
// node reports cluster_state:ok and all nodes agree on the topology that
// CLUSTER SHARDS reports. Every process is killed by t.Cleanup.
func StartCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	Binaries(t)
	lc, err := localvalkey.StartCluster(context.Background(), opts.launch(t))
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	t.Cleanup(func() {
		if err := lc.Close(); err != nil {
			t.Errorf("valkeytest: %v", err)
		}
	})
	c := &Cluster{c: lc}
	if opts.TLS {
		c.CA = opts.CA
		if c.CA == nil {
			c.CA = wrapCA(lc.CA)
		}
	}
	for _, n := range lc.Nodes {
		c.Nodes = append(c.Nodes, wrapServer(n, c.CA))
	}
	return c
}

// Addr returns the first node's address, the seed a client is given.
func (c *Cluster) Addr() string { return c.c.Addr() }

// Addrs returns every node's address, for clients that take several seeds.
func (c *Cluster) Addrs() []string { return c.c.Addrs() }

// DBSize returns the number of keys in the cluster, summed over the nodes
// that are still running (a killed node's keys are unreachable anyway).
func (c *Cluster) DBSize(t testing.TB) int {
	t.Helper()
	n, err := c.c.DBSize()
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	return n
}

// Do runs one command with valkey-cli -c (following MOVED redirects) against
// node 0 as admin and returns its trimmed stdout; errors fail the test.
func (c *Cluster) Do(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.DoErr(args...)
	if err != nil {
		t.Fatalf("valkeytest: cluster %s %s: %v", c.Addr(), strings.Join(args, " "), err)
	}
	return out
}

// DoErr is Cluster.Do that returns the error instead of failing the test.
func (c *Cluster) DoErr(args ...string) (string, error) { return c.c.Do(args...) }

// Kill kills every node.
func (c *Cluster) Kill() { c.c.Kill() }
