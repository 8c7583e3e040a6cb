package valkeyclient

import (
	"context"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/valkey-io/valkey-go"
)

// NodeAskTimeout bounds asking one node for the slot map: a stalled read-port node must not
// eat a check's deadline.
const NodeAskTimeout = time.Second

// Roles splits the nodes a client knows into primaries (masters that own slots) and
// read-only nodes (replicas: on ElastiCache Serverless, the read port 6380, which CLUSTER
// SLOTS lists as the replica of the one virtual node). Every "every node" loop of the
// primary verdict (ping, reconnect, cleanup's SCAN, watch, probe) visits primaries only: a
// stalled read port must never fail a healthy primary over.
//
// The slot map is asked of each node in turn (NodeAskTimeout each) until one answers; when
// none does, or the client is not a cluster client, every node whose port is readerPort is
// read-only and the rest are primaries.
func Roles(ctx context.Context, c valkey.Client, readerPort int) (primaries, readOnly []string) {
	all := NodeAddrs(c)
	nodes := c.Nodes()
	masters := map[string]bool{}
	if c.Mode() == valkey.ClientModeCluster {
		for _, addr := range all {
			n := nodes[addr]
			actx, cancel := context.WithTimeout(ctx, NodeAskTimeout)
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

// NodeAddrs lists the nodes the client knows, sorted.
func NodeAddrs(c valkey.Client) []string {
	nodes := c.Nodes()
	out := make([]string, 0, len(nodes))
	for a := range nodes {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
