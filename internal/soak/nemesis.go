package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/cohub/cohub/internal/faultproxy"
)

// FaultKinds are the faults the nemesis can use on one Redis.
var FaultKinds = []string{"cut", "delay", "blackhole", "half-open", "kill", "term", "redis-restart", "redis-kill", "away"}

// SentinelFaultKinds are those it can use with Sentinel: the nodes reach
// the servers directly (no fault proxy), and the master is killed for a
// failover rather than restarted.
var SentinelFaultKinds = []string{"kill", "term", "failover", "away"}

// ClusterFaultKinds are those it can use with Redis Cluster: as with
// Sentinel, no fault proxy; one master at a time is killed for its
// replica to take its slots over. (In this order the CI's seed draws a
// master failover first.)
var ClusterFaultKinds = []string{"kill", "term", "master-failover", "away"}

// nemesis breaks things one at a time on a seeded schedule: the same
// seed gives the same faults in the same order, with the same gaps.
type nemesis struct {
	c       *Cluster
	rng     *rand.Rand
	kinds   []string
	rooms   []*Room
	clients map[*Participant]*client
	ttl     time.Duration
	grace   time.Duration
	faults  []Fault
	logf    func(format string, args ...any)
	// linked is when each node's last link fault ended.
	linked map[int]time.Time
}

// run applies faults until the deadline, leaving everything healed.
func (n *nemesis) run(ctx context.Context, until time.Time) error {
	for {
		sleep(ctx, n.between(2*time.Second, 5*time.Second))
		if ctx.Err() != nil || time.Now().Add(n.longest()).After(until) {
			return ctx.Err()
		}
		kind := n.kinds[n.rng.IntN(len(n.kinds))]
		f, err := n.apply(ctx, kind)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		n.faults = append(n.faults, f)
		n.logf("fault %-13s %-24s %s", f.Kind, f.Target, f.To.Sub(f.From).Round(time.Millisecond))
	}
}

// longest bounds a fault's length, so none outlasts the schedule.
func (n *nemesis) longest() time.Duration { return n.ttl + n.grace + 5*time.Second }

func (n *nemesis) between(a, b time.Duration) time.Duration {
	return a + time.Duration(n.rng.Int64N(int64(b-a)+1))
}

func (n *nemesis) apply(ctx context.Context, kind string) (Fault, error) {
	f := Fault{Kind: kind, From: time.Now()}
	var err error
	switch kind {
	case "cut", "blackhole", "half-open", "delay":
		err = n.link(ctx, &f)
	case "kill", "term":
		err = n.restartNode(ctx, &f)
	case "redis-restart", "redis-kill":
		err = n.restartRedis(&f)
	case "away":
		n.away(ctx, &f)
	case "failover":
		f.Target, err = n.c.failover(ctx, n.between(500*time.Millisecond, 3*time.Second))
	case "master-failover":
		f.Target, err = n.c.masterFailover(ctx, n.rng, n.between(500*time.Millisecond, 3*time.Second))
	}
	f.To = time.Now()
	return f, err
}

// link troubles one node's link to Redis for less than a node may miss
// its liveness. A node refreshes its liveness every third of the TTL and
// is taken for dead a TTL after its last refresh, so a node cut off for
// over two thirds of it may rightly be reaped, its customers shown
// offline: that is the promise for a dead node, judged by the away
// fault. A cut is seen at once; a blackholed or half-open link only when
// the client's read times out (3 s), so those last less.
func (n *nemesis) link(ctx context.Context, f *Fault) error {
	node := n.c.Nodes[n.rng.IntN(len(n.c.Nodes))]
	// Two link faults on one node within a TTL add up to one long
	// outage for its liveness (the second soak found that): keep them
	// a TTL apart.
	sleep(ctx, time.Until(n.linked[node.Index].Add(n.ttl)))
	defer func() { n.linked[node.Index] = time.Now() }()
	f.From = time.Now()
	f.Target = fmt.Sprintf("node %d", node.Index)
	mode, delay, longest := f.Kind, time.Duration(0), n.ttl/2
	switch f.Kind {
	case "delay":
		mode, delay = faultproxy.ModeForward, n.between(50*time.Millisecond, 400*time.Millisecond)
		f.Target += fmt.Sprintf(" +%s", delay)
	case faultproxy.ModeBlackhole, faultproxy.ModeHalfOpen:
		longest = max(n.ttl/2-readTimeout, time.Second)
	}
	node.Proxy.Set(mode, delay)
	sleep(ctx, n.between(time.Second, longest))
	node.Proxy.Set(faultproxy.ModeForward, 0)
	return nil
}

// readTimeout is how long the nodes' Redis client waits for a reply.
const readTimeout = 3 * time.Second

// restartNode kills (or terminates) a node and starts it again after a
// moment; its clients move to other nodes meanwhile.
func (n *nemesis) restartNode(ctx context.Context, f *Fault) error {
	node := n.c.Nodes[n.rng.IntN(len(n.c.Nodes))]
	f.Target = fmt.Sprintf("node %d", node.Index)
	sig := syscall.SIGKILL
	if f.Kind == "term" {
		sig = syscall.SIGTERM
	}
	n.c.Stop(node, sig)
	sleep(ctx, n.between(500*time.Millisecond, 3*time.Second))
	err := n.c.Start(ctx, node)
	if errors.Is(err, errNotReady) {
		// A slow start is not a broken promise: clients find the node
		// once it is ready, and the others serve them meanwhile.
		n.logf("node %d: %v", node.Index, err)
		return nil
	}
	return err
}

// restartRedis stops Redis (cleanly, or killed: its fsynced log keeps
// every acknowledged write either way) and starts it on the same data
// after a moment.
func (n *nemesis) restartRedis(f *Fault) error {
	f.Target = "redis"
	sig := syscall.SIGTERM
	if f.Kind == "redis-kill" {
		sig = syscall.SIGKILL
	}
	return n.c.Redis.Restart(sig, n.between(200*time.Millisecond, 2*time.Second), true)
}

// away sends one room's customer away for longer than the TTL and the
// grace: the agent must be told, within them.
func (n *nemesis) away(ctx context.Context, f *Fault) {
	r := n.rooms[n.rng.IntN(len(n.rooms))]
	f.Room, f.Target = r.ID, "customer of "+r.ID
	gone := n.ttl + n.grace + 3*time.Second
	n.clients[r.Customer].leave(gone)
	sleep(ctx, gone)
}
