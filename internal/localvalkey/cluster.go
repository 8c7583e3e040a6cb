package localvalkey

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// clusterSize is the number of masters: the smallest cluster in which killing one master
// leaves a majority able to mark it failed.
const clusterSize = 3

// totalSlots is the number of hash slots in a Valkey cluster.
const totalSlots = 16384

// Cluster is a running cluster: three masters without replicas (StartCluster) or the
// serverless shape, one master and its replica (StartServerless).
type Cluster struct {
	Nodes []*Server // every process: the masters, then the replica (serverless)
	CA    *CA       // the CA of every node certificate; nil without TLS
	// Topology says which shape this is.
	Topology Topology
	// Primary and Replica are the serverless shape's master (the primary port) and replica
	// (the read port); nil in the 3-master topology.
	Primary, Replica *Server

	dir string // the launcher's directory for this cluster, removed by Close
}

// StartCluster starts three cluster-enabled servers, joins them with valkey-cli --cluster
// create, and waits (up to ClusterTimeout, or until ctx ends) until every node reports
// cluster_state:ok and all nodes agree on the topology that CLUSTER SHARDS reports. On error
// every process it started is stopped again. The caller must Close the cluster.
func StartCluster(ctx context.Context, opts Options) (*Cluster, error) {
	spec, err := newSpec(opts, true)
	if err != nil {
		return nil, err
	}
	return startNodes(ctx, spec, TopologyThreeMasters, clusterSize, "cluster", func(c *Cluster) error { return c.create(ctx) })
}

// startNodes starts n servers of spec as one Cluster of topology topo, joins them with join and
// waits (ClusterTimeout) until they agree; on error it stops every process it started. what
// names the cluster in the error ("cluster", "serverless stand-in").
func startNodes(ctx context.Context, spec *nodeSpec, topo Topology, n int, what string, join func(*Cluster) error) (*Cluster, error) {
	c := &Cluster{CA: spec.opts.CA, dir: spec.dir, Topology: topo}
	if !spec.opts.TLS {
		c.CA = nil
	}
	fail := func(err error) (*Cluster, error) {
		_ = c.Close()
		return nil, err
	}
	for range n {
		node, err := startServer(ctx, spec)
		if err != nil {
			return fail(err)
		}
		c.Nodes = append(c.Nodes, node)
	}
	if err := join(c); err != nil {
		return fail(err)
	}
	if err := c.waitConverged(ctx, ClusterTimeout); err != nil {
		var logs strings.Builder
		for _, node := range c.Nodes {
			fmt.Fprintf(&logs, "--- node %s ---\n%s", node.Addr, node.LogTail(20))
		}
		return fail(fmt.Errorf("localvalkey: %s not ready after %v: %w\n%s", what, ClusterTimeout, err, logs.String()))
	}
	if err := forget(spec, c.ForgetSecrets); err != nil {
		return fail(err)
	}
	return c, nil
}

// create runs valkey-cli --cluster create against the nodes.
func (c *Cluster) create(ctx context.Context) error {
	n0 := c.Nodes[0]
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes", "--user", AdminUser)
	if n0.TLS {
		args = append(args, "--tls", "--cacert", n0.CA.CertFile, "--sni", "localhost")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*ClusterTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, n0.cli, args...)
	cmd.Env = n0.cliEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "All 16384 slots covered") {
		return fmt.Errorf("localvalkey: valkey-cli --cluster create: %v\n%s", err, out)
	}
	return nil
}

// waitConverged polls CLUSTER INFO and CLUSTER NODES on every node.
func (c *Cluster) waitConverged(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := c.converged()
		if err == nil {
			err = c.replicaLinked()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// converged reports nil when every node is ok and all views are identical. It compares
// CLUSTER NODES because its one-line-per-node text is easy to normalise; the ids, addresses
// and slot ranges it lists are exactly what CLUSTER SHARDS is built from.
func (c *Cluster) converged() error {
	var first string
	for i, n := range c.Nodes {
		info, err := n.rawDo(2*time.Second, "CLUSTER", "INFO")
		if err != nil {
			return fmt.Errorf("node %s CLUSTER INFO: %w", n.Addr, err)
		}
		for _, want := range []string{"cluster_state:ok", "cluster_slots_assigned:16384",
			"cluster_slots_ok:16384", "cluster_known_nodes:" + strconv.Itoa(len(c.Nodes))} {
			if !strings.Contains(info, want) {
				return fmt.Errorf("node %s: CLUSTER INFO lacks %q:\n%s", n.Addr, want, info)
			}
		}
		nodes, err := n.rawDo(2*time.Second, "CLUSTER", "NODES")
		if err != nil {
			return fmt.Errorf("node %s CLUSTER NODES: %w", n.Addr, err)
		}
		view, err := canonicalView(nodes)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Addr, err)
		}
		if i == 0 {
			first = view
		} else if view != first {
			return fmt.Errorf("node %s disagrees with %s:\n%s\nvs\n%s", n.Addr, c.Nodes[0].Addr, view, first)
		}
	}
	return nil
}

// canonicalView turns CLUSTER NODES output into a sorted summary of (id, address, role,
// slots) that is the same on every node when they agree.
func canonicalView(nodes string) (string, error) {
	var lines []string
	slots := 0
	for _, l := range strings.Split(strings.TrimSpace(nodes), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			return "", fmt.Errorf("short CLUSTER NODES line %q", l)
		}
		flags := strings.Split(f[2], ",")
		role := ""
		for _, fl := range flags {
			switch fl {
			case "master", "slave":
				role = fl
			case "fail", "fail?", "handshake", "noaddr", "nofailover":
				return "", fmt.Errorf("node %s has flag %q", f[0], fl)
			}
		}
		if f[7] != "connected" {
			return "", fmt.Errorf("node %s link is %s", f[0], f[7])
		}
		for _, r := range f[8:] {
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil {
				return "", fmt.Errorf("node %s: unexpected slot range %q", f[0], r)
			}
			slots += b - a + 1
		}
		// Strip the "@busport,hostname" suffix details that do not matter.
		addr, _, _ := strings.Cut(f[1], ",")
		lines = append(lines, strings.Join(append([]string{f[0], addr, role}, f[8:]...), " "))
	}
	if slots != totalSlots {
		return "", fmt.Errorf("slots covered: %d of %d", slots, totalSlots)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), nil
}

// Addr returns the first node's address, the seed a client is given.
func (c *Cluster) Addr() string { return c.Nodes[0].Addr }

// Addrs returns every node's address, for clients that take several seeds.
func (c *Cluster) Addrs() []string {
	a := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		a[i] = n.Addr
	}
	return a
}

// PIDs returns the process ids of the nodes, for callers that prove every process is gone.
func (c *Cluster) PIDs() []int {
	p := make([]int, len(c.Nodes))
	for i, n := range c.Nodes {
		p[i] = n.PID()
	}
	return p
}

// DBSize returns the number of keys in the cluster, summed over the masters that are still
// running (a killed node's keys are unreachable anyway).
func (c *Cluster) DBSize() (int, error) {
	total := 0
	for _, n := range c.Nodes {
		if n.Exited() || n == c.Replica {
			continue // a replica holds copies of its master's keys
		}
		k, err := n.DBSize()
		if err != nil {
			return 0, err
		}
		total += k
	}
	return total, nil
}

// Do runs one command with valkey-cli -c (following MOVED redirects) against node 0 as admin
// and returns its trimmed stdout.
func (c *Cluster) Do(args ...string) (string, error) {
	return c.Nodes[0].runCLI(true, args)
}

// ForgetSecrets is Server.ForgetSecrets for every node.
func (c *Cluster) ForgetSecrets() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.ForgetSecrets())
	}
	return errors.Join(errs...)
}

// Kill kills every node; directories stay (see Close).
func (c *Cluster) Kill() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// Close kills every node and removes every directory the launcher made for the cluster. It
// is safe to call more than once.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Close())
	}
	if c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("localvalkey: remove %s: %w", c.dir, err))
		}
		c.dir = ""
	}
	return errors.Join(errs...)
}
