package checks

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/valkey-io/valkey-go"
)

// nodeAskTimeout bounds asking one node for the slot map: a stalled read-port node must not
// eat a check's deadline.
const nodeAskTimeout = time.Second

// Roles splits the nodes a client knows into primaries (masters that own slots) and
// read-only nodes (replicas: on ElastiCache Serverless, the read port 6380, which CLUSTER
// SLOTS lists as the replica of the one virtual node). Every "every node" loop of the
// primary verdict (ping, reconnect, cleanup's SCAN, watch, probe) visits primaries only: a
// stalled read port must never fail a healthy primary over.
//
// The slot map is asked of each node in turn (nodeAskTimeout each) until one answers; when
// none does, or the client is not a cluster client, every node whose port is readerPort is
// read-only and the rest are primaries.
func Roles(ctx context.Context, c valkey.Client, readerPort int) (primaries, readOnly []string) {
	all := nodeAddrs(c)
	nodes := c.Nodes()
	masters := map[string]bool{}
	if c.Mode() == valkey.ClientModeCluster {
		for _, addr := range all {
			n := nodes[addr]
			actx, cancel := context.WithTimeout(ctx, nodeAskTimeout)
			slots, err := n.Do(actx, n.B().ClusterSlots().Build()).ToArray()
			cancel()
			if err != nil {
				continue
			}
			host, _, _ := net.SplitHostPort(addr)
			for _, r := range slots {
				rng, err := r.ToArray()
				if err != nil || len(rng) < 3 {
					continue
				}
				m, err := rng[2].ToArray()
				if err != nil || len(m) < 2 {
					continue
				}
				h, _ := m[0].ToString()
				p, _ := m[1].AsInt64()
				if h == "" || h == "?" {
					h = host // valkey-go does the same with an unknown endpoint
				}
				masters[net.JoinHostPort(h, strconv.FormatInt(p, 10))] = true
			}
			break
		}
	}
	for _, addr := range all {
		_, port, _ := net.SplitHostPort(addr)
		isReader := readerPort != 0 && port == strconv.Itoa(readerPort)
		if len(masters) > 0 {
			isReader = !masters[addr]
		}
		if isReader {
			readOnly = append(readOnly, addr)
		} else {
			primaries = append(primaries, addr)
		}
	}
	return primaries, readOnly
}

// primaries returns the primary nodes of e's client, asking once per client.
func (e *Env) primaries(ctx context.Context) []string {
	if e.roleClient != e.Client || e.primaryNodes == nil {
		e.primaryNodes, e.ReadOnlyNodes = Roles(ctx, e.Client, e.Target.ReaderPort)
		e.roleClient = e.Client
	}
	return e.primaryNodes
}
