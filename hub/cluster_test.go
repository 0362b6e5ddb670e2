package hub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/rooms"
)

// Redis Cluster of three masters, each with a replica, and two nodes
// with rooms spread over every shard: messages go both ways across the
// nodes; each node holds one subscriber connection per master however
// many rooms it serves; a busy room's slot moves to another master
// during traffic, and then that master is killed (its replica takes
// over). Every acknowledged message reaches both sides once.
func TestRedisCluster(t *testing.T) {
	rc := redistest.StartShardedCluster(t, 3, 1)
	topo := &livetest.RedisTopology{Sharded: true, Replicas: 1, Dial: func(name string) redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs, ClientName: name, Protocol: 2})
	}}
	c := newClusterOn(t, "redis", topo, 2, talkConfig(), func(sc *rooms.Config) { sc.MessageRate, sc.MessageBurst = 1e6, 1e6 })
	const rooms_ = 24
	var lives []livetest.Live
	for range rooms_ {
		lives = append(lives, c.Live(0, 1))
	}
	for i, l := range lives {
		l.Agent.OK(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": fmt.Sprint("agent ", i)}})
		l.Cust.OK(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": fmt.Sprint("customer ", i)}})
	}
	for _, l := range lives {
		for _, cl := range []*livetest.Client{l.Agent, l.Cust} {
			checkContiguous(t, collect(t, cl, l.Topic, rooms.EventMessage, 2))
		}
	}
	names := []string{"node1", "node2"}
	countConns := func(when string) {
		total, subs, chans := clientLists(t, rc, names)
		masters := len(rc.Masters(t))
		for _, n := range names {
			t.Logf("%s: %s: %d connections to the masters, %d of them subscribers carrying %d shard channels (%d rooms, %d masters)",
				when, n, total[n], subs[n], chans[n], rooms_, masters)
			if subs[n] < 1 || subs[n] > masters {
				t.Errorf("%s: %s holds %d subscriber connections for %d rooms; want one per master (%d) at most", when, n, subs[n], rooms_, masters)
			}
			if chans[n] < rooms_ {
				t.Errorf("%s: %s subscribes %d shard channels, want at least its %d rooms", when, n, chans[n], rooms_)
			}
		}
	}
	countConns("rooms spread over the shards")

	busy := lives[0]
	tk := startTalk(t, busy.Topic, map[string]*livetest.Client{"agent": busy.Agent, "customer": busy.Cust})
	waitUntil(t, "a conversation", 10*time.Second, func() bool { n, _ := tk.count(time.Time{}); return n >= 20 })

	slot := rc.Slot(t, "{"+busy.ID+"}")
	from := rc.Owner(t, slot)
	to := ""
	for _, m := range rc.Masters(t) {
		if m != from {
			to = m
			break
		}
	}
	moved := time.Now()
	rc.MigrateSlot(t, slot, from, to)
	t.Logf("slot %d of the busy room moved from %s to %s in %s", slot, from, to, time.Since(moved).Round(time.Millisecond))
	rc.WaitHealthy(t)
	waitUntil(t, "the conversation to go on after the move", 20*time.Second, func() bool { _, n := tk.count(moved); return n >= 20 })

	killed := time.Now()
	rc.Kill(to)
	waitUntil(t, "a replica to take the slot over", 30*time.Second, func() bool {
		owner := ownerSeen(rc, to, slot)
		return owner != "" && owner != to
	})
	promoted := time.Since(killed)
	waitUntil(t, "the conversation to go on after the failover", 30*time.Second, func() bool { _, n := tk.count(killed); return n >= 20 })
	acked := tk.end()
	t.Logf("a replica took slot %d over %s after its master was killed", slot, promoted.Round(time.Millisecond))
	checkTalk(t, c, busy.ID, acked, []*livetest.Client{busy.Agent, busy.Cust}, killed)

	// Every other room still works across the nodes after the failover.
	for i, l := range lives[1:] {
		ref := fmt.Sprint("after-", i)
		select {
		case <-l.Agent.Done():
			t.Fatalf("room %d: the agent's connection was closed (%d); rooms moved to a new epoch: %v, %v", i+1,
				l.Agent.CloseStatus(), counter(c.Nodes[0].Metrics.EpochMoves), counter(c.Nodes[1].Metrics.EpochMoves))
		default:
		}
		l.Agent.MustWrite(map[string]any{"op": "send", "ref": ref, "topic": l.Topic, "data": map[string]string{"text": ref}})
		for _, cl := range []*livetest.Client{l.Agent, l.Cust} {
			if _, ok := cl.Within(30*time.Second, func(f livetest.Frame) bool { return f.Op == "event" && f.Map()["text"] == ref }); !ok {
				t.Fatalf("room %d: %q did not arrive after the failover: %s", i+1, ref, cl.Dump())
			}
		}
	}
	countConns("after the move and the failover")
}

// ownerSeen is slot's master as a running node other than dead sees it.
func ownerSeen(rc *redistest.Cluster, dead string, slot int) string {
	for _, addr := range rc.Addrs {
		if addr == dead {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		slots, err := rdb.ClusterSlots(context.Background()).Result()
		_ = rdb.Close()
		if err != nil {
			continue
		}
		for _, s := range slots {
			if int(s.Start) <= slot && slot <= int(s.End) {
				return s.Nodes[0].Addr
			}
		}
	}
	return ""
}
