package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/redisstore"
)

// recorder is a node's bus handler that keeps what it got.
type recorder struct {
	mu      sync.Mutex
	got     []string // "topic payload"
	resyncs int
	notify  chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) Deliver(topic string, msg []byte) {
	r.mu.Lock()
	r.got = append(r.got, topic+" "+string(msg))
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) Resync() {
	r.mu.Lock()
	r.resyncs++
	r.mu.Unlock()
}

// await waits until pred holds for what arrived.
func (r *recorder) await(t *testing.T, what string, pred func(got []string) bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		ok := pred(r.got)
		got := append([]string(nil), r.got...)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("no %s; got %q", what, got)
		}
	}
}

func has(want string) func([]string) bool {
	return func(got []string) bool {
		for _, g := range got {
			if g == want {
				return true
			}
		}
		return false
	}
}

// busSetup gives two nodes' views of one bus and a store whose commits
// publish on it.
type busSetup func(t *testing.T) (a, b Bus, store rooms.Store)

// busContract: ephemeral messages and committed events reach the nodes
// subscribed to a topic, and only those.
func busContract(t *testing.T, setup busSetup) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b, store := setup(t)
	ra, rb := newRecorder(), newRecorder()
	a.Start(ctx, ra)
	b.Start(ctx, rb)

	room := "s_01BUSCONTRACT0000000000000"
	if err := a.Subscribe(ctx, RoomTopic(room)); err != nil {
		t.Fatal(err)
	}
	if err := a.Subscribe(ctx, InboxTopic("a_1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, RoomTopic(room), []byte(`{"op":"presence"}`)); err != nil {
		t.Fatal(err)
	}
	ra.await(t, "ephemeral room message", has(RoomTopic(room)+` {"op":"presence"}`))
	if err := b.Publish(ctx, InboxTopic("a_1"), []byte(`{"op":"event"}`)); err != nil {
		t.Fatal(err)
	}
	ra.await(t, "inbox message", has(InboxTopic("a_1")+` {"op":"event"}`))

	s := &rooms.Session{ID: room, State: rooms.StateActive}
	if _, err := store.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage, Text: "hi"}}, rooms.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	ra.await(t, "committed event", func(got []string) bool {
		for _, g := range got {
			var e rooms.Event
			if len(g) > len(RoomTopic(room)) && json.Unmarshal([]byte(g[len(RoomTopic(room))+1:]), &e) == nil && e.Seq == 1 && e.Text == "hi" {
				return true
			}
		}
		return false
	})

	a.Unsubscribe(ctx, RoomTopic(room))
	_ = b.Publish(ctx, RoomTopic(room), []byte(`{"op":"after"}`))
	_ = b.Publish(ctx, InboxTopic("a_1"), []byte(`{"op":"marker"}`))
	ra.await(t, "marker", has(InboxTopic("a_1")+` {"op":"marker"}`))
	if has(RoomTopic(room) + ` {"op":"after"}`)(ra.got) {
		t.Fatal("delivered after unsubscribe")
	}
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if len(rb.got) != 0 {
		t.Fatalf("a node subscribed to nothing got %q", rb.got)
	}
}

// The buses run on the store they pair with, as hub's Backend pairs them
// (the memory store's publish, the Redis store's room channel):
// the contract then also proves that pairing.
func TestMemoryBus(t *testing.T) {
	busContract(t, func(t *testing.T) (Bus, Bus, rooms.Store) {
		mem := NewMemoryBus()
		store := memstore.New(mem.PublishEvents)
		return mem.Node(), mem.Node(), store
	})
}

func TestRedisBus(t *testing.T) {
	busContract(t, func(t *testing.T) (Bus, Bus, rooms.Store) {
		rdb, prefix := redistest.Client(t)
		store := redisstore.New(rdb, prefix, redisstore.Options{})
		bus := func(node string) Bus {
			return NewRedisBus(rdb, RedisBusOptions{Prefix: prefix, Channel: store.Channel, Node: node}, zerolog.Nop())
		}
		return bus("a"), bus("b"), store
	})
}

// TestRedisClusterBus runs the bus on sharded pub/sub.
func TestRedisClusterBus(t *testing.T) {
	srv := redistest.StartCluster(t)
	busContract(t, func(t *testing.T) (Bus, Bus, rooms.Store) {
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}})
		t.Cleanup(func() { _ = rdb.Close() })
		store := redisstore.New(rdb, "c:", redisstore.Options{Sharded: true})
		bus := func(node string) Bus {
			return NewRedisBus(rdb, RedisBusOptions{Prefix: "c:", Sharded: true, Channel: store.Channel, Node: node}, zerolog.Nop())
		}
		return bus("a"), bus("b"), store
	})
}

// A subscriber that stops delivering without an error (here: Redis
// pauses every client) makes the node unready until its probe comes
// back, and then catch up.
func TestBusProbe(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := NewRedisBus(rdb, RedisBusOptions{Prefix: "p:", Channel: func(id string) string { return "p:{" + id + "}:room" },
		Node: "n1", ProbeEvery: 100 * time.Millisecond}, zerolog.Nop())
	rec := newRecorder()
	bus.Start(ctx, rec)

	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = admin.Close() })
	if err := admin.Do(ctx, "CLIENT", "PAUSE", 1500, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unready while probes are lost", func() bool { return bus.Ready() != nil })
	waitFor(t, "ready again", func() bool { return bus.Ready() == nil })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.resyncs == 0 {
		t.Fatal("no catch-up after the subscriber was replaced")
	}
}

// waitFor polls a state that has no event to await.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal(fmt.Sprint("never ", what))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
