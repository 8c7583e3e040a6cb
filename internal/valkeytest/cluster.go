package valkeytest

import (
	"context"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// Cluster is a running cluster: three masters (StartCluster) or the serverless shape
// (StartServerless).
type Cluster struct {
	Nodes []*Server // every process: the masters, then the serverless replica
	CA    *CA       // the CA of every node certificate; nil without TLS
	// Topology is the shape (localvalkey.TopologyServerless or TopologyThreeMasters).
	Topology localvalkey.Topology
	// Primary and Replica are the serverless master (primary port) and replica (read
	// port); nil for three masters.
	Primary, Replica *Server

	c *localvalkey.Cluster
}

// StartCluster starts three cluster-enabled servers, joins them with
// valkey-cli --cluster create, and waits (up to ClusterTimeout) until every
// node reports cluster_state:ok and all nodes agree on the topology that
// CLUSTER SHARDS reports. Every process is killed by t.Cleanup.
func StartCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	return startWith(t, opts, localvalkey.StartCluster)
}

// startWith starts a topology with the launcher's start function, stops it in t.Cleanup and
// wraps it; a launcher error fails the test.
func startWith(t testing.TB, opts Options, start func(context.Context, localvalkey.Options) (*localvalkey.Cluster, error)) *Cluster {
	t.Helper()
	Binaries(t)
	lc, err := start(context.Background(), opts.launch(t))
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	t.Cleanup(func() {
		if err := lc.Close(); err != nil {
			t.Errorf("valkeytest: %v", err)
		}
	})
	return wrapCluster(lc, opts)
}

func wrapCluster(lc *localvalkey.Cluster, opts Options) *Cluster {
	c := &Cluster{c: lc, Topology: lc.Topology}
	if opts.TLS {
		c.CA = opts.CA
		if c.CA == nil {
			c.CA = wrapCA(lc.CA)
		}
	}
	for _, n := range lc.Nodes {
		w := wrapServer(n, c.CA)
		c.Nodes = append(c.Nodes, w)
		switch n {
		case lc.Primary:
			c.Primary = w
		case lc.Replica:
			c.Replica = w
		}
	}
	return c
}

// Launched returns localvalkey's own cluster, for code that takes it (the drill).
func (c *Cluster) Launched() *localvalkey.Cluster { return c.c }

// ReaderPort returns the serverless read port (the replica's), 0 for three masters.
func (c *Cluster) ReaderPort() int { return c.c.ReaderPort() }

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
