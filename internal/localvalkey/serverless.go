package localvalkey

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Topology names a shape of local cluster. It is data: the drill records it in its evidence
// and tests choose it from a table.
type Topology string

// Topologies the launcher starts.
const (
	// TopologyServerless is what an ElastiCache Serverless cache looks like to a client
	// (docs/design.md, "Serverless as clients see it"): ONE master owning slots 0-16383 on port P, a real replica of it on
	// port P+1 (the read port, 6380 on AWS), both announcing the hostname "localhost";
	// cluster-require-full-coverage no, cluster-allow-reads-when-down yes,
	// maxmemory-policy volatile-lru.
	TopologyServerless Topology = "serverless"
	// TopologyThreeMasters is three masters without replicas, slots split between them: an
	// open-source cluster, where keys on one shard fail while the others serve.
	TopologyThreeMasters Topology = "3-masters"
)

// ServerlessMaxMemoryPolicy is the eviction policy of ElastiCache Serverless: keys with a TTL
// may be evicted when the cache is full.
const ServerlessMaxMemoryPolicy = "volatile-lru"

// StartServerless starts the serverless-shaped cluster (TopologyServerless): a master that
// owns every slot and a replica of it, both TLS when opts.TLS is set, and waits until the
// replica's link is up and both nodes agree. Nodes[0] is the master (Primary), Nodes[1] the
// replica (Reader). Application users should get ServerlessRules so they may run only what
// serverless supports. The caller must Close the cluster.
func StartServerless(ctx context.Context, opts Options) (*Cluster, error) {
	spec, err := newSpec(opts, true)
	if err != nil {
		return nil, err
	}
	spec.serverless = true
	if p, err := freePortPair(); err == nil {
		spec.ports = []int{p, p + 1}
	}
	return startNodes(ctx, spec, TopologyServerless, 2, "serverless stand-in", func(c *Cluster) error {
		c.Primary, c.Replica = c.Nodes[0], c.Nodes[1]
		return c.joinServerless(ctx)
	})
}

// joinServerless gives the master every slot, introduces the replica and makes it replicate.
func (c *Cluster) joinServerless(ctx context.Context) error {
	m, r := c.Primary, c.Replica
	if _, err := m.rawDo(5*time.Second, "CLUSTER", "ADDSLOTSRANGE", "0", strconv.Itoa(totalSlots-1)); err != nil {
		return fmt.Errorf("localvalkey: CLUSTER ADDSLOTSRANGE on %s: %w", m.Addr, err)
	}
	id, err := m.rawDo(2*time.Second, "CLUSTER", "MYID")
	if err != nil {
		return fmt.Errorf("localvalkey: CLUSTER MYID on %s: %w", m.Addr, err)
	}
	if _, err := r.rawDo(5*time.Second, "CLUSTER", "MEET", m.Host, strconv.Itoa(m.Port), strconv.Itoa(m.Port+busOffset)); err != nil {
		return fmt.Errorf("localvalkey: CLUSTER MEET from %s: %w", r.Addr, err)
	}
	// REPLICATE fails until the replica has learnt the master from the bus: poll.
	deadline := time.Now().Add(ClusterTimeout)
	for {
		_, err := r.rawDo(2*time.Second, "CLUSTER", "REPLICATE", id)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localvalkey: CLUSTER REPLICATE %s on %s: %w", id, r.Addr, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localvalkey: serverless start interrupted: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// replicaLinked reports nil when the replica's replication link to the master is up.
func (c *Cluster) replicaLinked() error {
	if c.Replica == nil {
		return nil
	}
	info, err := c.Replica.rawDo(2*time.Second, "INFO", "replication")
	if err != nil {
		return fmt.Errorf("replica %s INFO replication: %w", c.Replica.Addr, err)
	}
	for _, want := range []string{"role:slave", "master_link_status:up"} {
		if !strings.Contains(info, want) {
			return fmt.Errorf("replica %s: INFO replication lacks %q", c.Replica.Addr, want)
		}
	}
	// The master lists a replica in CLUSTER SLOTS only once it has a replication offset:
	// until then a client would not see the read port at all.
	slots, err := c.Primary.rawDo(2*time.Second, "CLUSTER", "SLOTS")
	if err != nil {
		return fmt.Errorf("master %s CLUSTER SLOTS: %w", c.Primary.Addr, err)
	}
	if !strings.Contains(slots, "localhost\n"+strconv.Itoa(c.Replica.Port)+"\n") {
		return fmt.Errorf("master %s: CLUSTER SLOTS does not list the replica localhost:%d yet", c.Primary.Addr, c.Replica.Port)
	}
	return nil
}

// ReaderPort returns the read port of the serverless topology (the replica), 0 otherwise.
func (c *Cluster) ReaderPort() int {
	if c.Replica == nil {
		return 0
	}
	return c.Replica.Port
}

// freePortPair returns a port P such that P and P+1 (and their bus ports) are free and not
// yet handed out: the stand-in then mirrors 6379/6380. Adjacency is a nicety, not a need.
func freePortPair() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	free := func(p int) bool {
		if p > 65535 || portsUsed[p] {
			return false
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
		return true
	}
	for range 200 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("localvalkey: find a free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if free(p) && free(p+1) && free(p+busOffset) && free(p+1+busOffset) {
			for _, q := range []int{p, p + 1, p + busOffset, p + 1 + busOffset} {
				portsUsed[q] = true
			}
			return p, nil
		}
	}
	return 0, errors.New("localvalkey: no free port pair P, P+1 found on 127.0.0.1")
}
