package redisproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster on loopback: masters and their replicas,
// created by redis-cli as an operator would. A down master stops only its
// own slots (cluster-require-full-coverage no).
type Cluster struct {
	Addrs    []string // every server, in start order
	replicas int      // per master, once healthy
	persist  bool
	args     []string // the servers' cluster arguments

	mu    sync.Mutex
	procs map[string]*Proc
	down  map[string]bool // stopped by Kill
}

// StartCluster runs masters×(1+replicas) servers in folders under dir,
// each calling a peer down after nodeTimeout, creates the cluster and
// waits until it is healthy. With persist every server keeps an fsynced
// append-only file (see Start).
func StartCluster(ctx context.Context, dir string, masters, replicas int, nodeTimeout time.Duration, persist bool) (*Cluster, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("redis-cli not found: %w", err)
	}
	c := &Cluster{replicas: replicas, persist: persist, procs: map[string]*Proc{}, down: map[string]bool{},
		args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
			"--cluster-require-full-coverage", "no", "--repl-diskless-sync-delay", "0"}}
	for i := range masters * (1 + replicas) {
		sub := filepath.Join(dir, fmt.Sprintf("redis-%d", i))
		if err := os.MkdirAll(sub, 0o700); err != nil {
			c.Stop()
			return nil, err
		}
		p, err := Start(sub, "", persist, c.args...)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Addrs = append(c.Addrs, p.Addr)
		c.procs[p.Addr] = p
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(ctx, time.Minute); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Stop kills every server.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		p.Stop(syscall.SIGKILL)
	}
}

// running lists the servers not stopped by Kill.
func (c *Cluster) running() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, a := range c.Addrs {
		if !c.down[a] {
			out = append(out, a)
		}
	}
	return out
}

// WaitHealthy polls Healthy: a cluster's agreement has no event a client
// can wait on.
func (c *Cluster) WaitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for !c.Healthy(ctx) {
		if time.Now().After(deadline) {
			return fmt.Errorf("redis cluster not healthy after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// Healthy: every running server says the cluster is ok with all 16384
// slots served, they all agree on who serves which, and every master has
// its replicas connected.
func (c *Cluster) Healthy(ctx context.Context) bool {
	var first string
	for _, addr := range c.running() {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		info, err := rdb.ClusterInfo(ctx).Result()
		owners := slotOwners(ctx, rdb)
		_ = rdb.Close()
		if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") || owners == "" {
			return false
		}
		if first == "" {
			first = owners
		} else if owners != first {
			return false
		}
	}
	nodes, err := c.nodes(ctx)
	if err != nil {
		return false
	}
	for _, m := range nodes {
		if m.isMaster() && m.replicas < c.replicas {
			return false
		}
	}
	return true
}

// slotOwners is a server's view of which master serves which slots.
func slotOwners(ctx context.Context, rdb *redis.Client) string {
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, s := range slots {
		fmt.Fprintf(&b, "%d-%d:%s ", s.Start, s.End, s.Nodes[0].Addr)
	}
	return b.String()
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, flags, masterID string
	connected                 bool
	replicas                  int // connected replicas, for a master
}

func (n clusterNode) isMaster() bool {
	return strings.Contains(n.flags, "master") && !strings.Contains(n.flags, "fail")
}

// nodes is a running server's CLUSTER NODES, with each master's
// connected replicas counted.
func (c *Cluster) nodes(ctx context.Context) ([]clusterNode, error) {
	var text string
	var err error
	for _, addr := range c.running() {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		text, err = rdb.ClusterNodes(ctx).Result()
		_ = rdb.Close()
		if err == nil {
			break
		}
	}
	if text == "" {
		return nil, fmt.Errorf("no cluster server answers: %v", err)
	}
	var out []clusterNode
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		// <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slots...>
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		out = append(out, clusterNode{id: f[0], addr: strings.Split(f[1], "@")[0], flags: f[2], masterID: f[3],
			connected: f[7] == "connected" || strings.Contains(f[2], "myself")})
	}
	for i := range out {
		for _, r := range out {
			if r.masterID == out[i].id && r.connected && !strings.Contains(r.flags, "fail") {
				out[i].replicas++
			}
		}
	}
	return out, nil
}

// Masters lists the masters not failed, as a running server sees them.
func (c *Cluster) Masters(ctx context.Context) ([]string, error) {
	nodes, err := c.nodes(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nodes {
		if n.isMaster() {
			out = append(out, n.addr)
		}
	}
	return out, nil
}

// Kill kills the server at addr, as a crash would.
func (c *Cluster) Kill(addr string) {
	c.mu.Lock()
	p := c.procs[addr]
	c.down[addr] = true
	c.mu.Unlock()
	p.Stop(syscall.SIGKILL)
}

// Failover kills the master at addr, waits until the cluster has
// promoted one of its replicas in its place, and after pause starts the
// killed server again on its data: its nodes.conf makes it rejoin, and
// the cluster makes it the new master's replica. It returns the promoted
// replica's address once the cluster is healthy again.
func (c *Cluster) Failover(ctx context.Context, addr string, pause time.Duration) (string, error) {
	replicas, err := c.replicasOf(ctx, addr)
	if err != nil {
		return "", err
	}
	c.Kill(addr)
	var now string
	deadline := time.Now().Add(time.Minute)
	for now == "" {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("no replica of %s promoted within a minute", addr)
		}
		time.Sleep(50 * time.Millisecond) // a promotion has no event a client can wait on
		now = c.promoted(ctx, replicas)
	}
	time.Sleep(pause) // the old master stays down a while longer
	c.mu.Lock()
	p := c.procs[addr]
	c.mu.Unlock()
	if err := p.Restart(syscall.SIGKILL, 0, c.persist, c.args...); err != nil {
		return now, err
	}
	c.mu.Lock()
	delete(c.down, addr)
	c.mu.Unlock()
	return now, c.WaitHealthy(ctx, time.Minute)
}

// replicasOf lists the addresses of the master's replicas.
func (c *Cluster) replicasOf(ctx context.Context, master string) ([]string, error) {
	nodes, err := c.nodes(ctx)
	if err != nil {
		return nil, err
	}
	var id string
	for _, n := range nodes {
		if n.addr == master && n.isMaster() {
			id = n.id
		}
	}
	var out []string
	for _, n := range nodes {
		if id != "" && n.masterID == id {
			out = append(out, n.addr)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is not a master with a replica", master)
	}
	return out, nil
}

// promoted is whichever of replicas a running server now sees as a master.
func (c *Cluster) promoted(ctx context.Context, replicas []string) string {
	nodes, err := c.nodes(ctx)
	if err != nil {
		return ""
	}
	for _, n := range nodes {
		if n.isMaster() && slices.Contains(replicas, n.addr) {
			return n.addr
		}
	}
	return ""
}
