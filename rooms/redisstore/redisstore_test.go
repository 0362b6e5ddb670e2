package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) rooms.Store {
		rdb, prefix := redistest.Client(t)
		return New(rdb, prefix, Options{})
	})
}

func TestAssets(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	storetest.Assets(t, New(rdb, prefix, Options{}))
	// The records live under the session's hash tag.
	if n, err := rdb.Exists(context.Background(), prefix+"{s_2}:assets").Result(); err != nil || n != 1 {
		t.Fatalf("{s_2}:assets exists = %d, %v", n, err)
	}
}

func TestRebaseLog(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	storetest.Rebase(t, New(rdb, prefix, Options{}))
}

func TestRewriteLog(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	storetest.Rewrite(t, New(rdb, prefix, Options{}))
}

// TestRedisKeyLayout checks the keys DESIGN.md §2 names, with one hash
// tag per session.
func TestRedisKeyLayout(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	st := New(rdb, prefix, Options{})
	ctx := context.Background()
	s := storetest.NewSession("s_01K", "a_1", "t_1", time.Now())
	storetest.Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage, Text: "hi"}}, 0)
	for key, typ := range map[string]string{
		prefix + "{s_01K}:session": "hash",
		prefix + "{s_01K}:seq":     "string",
		prefix + "{s_01K}:log":     "stream",
		prefix + "{s_01K}:meta":    "hash",
		prefix + "idx:all":         "zset",
		prefix + "idx:agent:a_1":   "zset",
		prefix + "idx:team:t_1":    "zset",
		prefix + "idx:idle":        "zset",
	} {
		got, err := rdb.Type(ctx, key).Result()
		if err != nil || got != typ {
			t.Errorf("%s is %q (%v), want %s", key, got, err, typ)
		}
	}
	msgs, err := rdb.XRange(ctx, prefix+"{s_01K}:log", "-", "+").Result()
	if err != nil || len(msgs) != 1 || msgs[0].ID != "1-0" {
		t.Fatalf("log = %+v %v", msgs, err)
	}
	var e rooms.Event
	if err := json.Unmarshal([]byte(msgs[0].Values["e"].(string)), &e); err != nil || e.Seq != 1 || e.Text != "hi" {
		t.Fatalf("log entry = %+v %v", e, err)
	}
}

// TestRedisCommitPublishesInOrder: each committed event goes out on the
// room channel with its seq, in order.
func TestRedisCommitPublishesInOrder(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	st := New(rdb, prefix, Options{})
	ctx := context.Background()
	sub := rdb.Subscribe(ctx, st.Channel("s_1"))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription confirmation
		t.Fatal(err)
	}
	s := storetest.NewSession("s_1", "a_1", "t_1", time.Now())
	storetest.Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage, Text: "a"}, {Type: rooms.EventMessage, Text: "b"}}, 0)
	storetest.Commit(t, st, s, []rooms.Event{{Type: rooms.EventSessionEnded}}, 0)
	ch := sub.Channel()
	for want := int64(1); want <= 3; want++ {
		select {
		case m := <-ch:
			var e rooms.Event
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil || e.Seq != want {
				t.Fatalf("message %d = %s (%v)", want, m.Payload, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d was not published", want)
		}
	}
}

// TestRedisOutageAndRestart: with Redis down every call says
// ErrUnavailable; after a restart nothing written before is lost.
func TestRedisOutageAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	newStore := func() (*Store, *redis.Client) {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
		t.Cleanup(func() { _ = rdb.Close() })
		return New(rdb, "", Options{}), rdb
	}
	st, _ := newStore()
	ctx := context.Background()
	storetest.Must(t, st.CreateAgent(ctx, &rooms.Agent{ID: "a_1", Email: "ann@example.com", Role: rooms.RoleAgent, PasswordHash: []byte("h")}))
	s := storetest.NewSession("s_1", "a_1", "t_1", time.Now())
	storetest.Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage, Text: "kept"}}, 0)

	srv.Stop()
	if err := st.Ping(ctx); !errors.Is(err, rooms.ErrUnavailable) {
		t.Fatalf("Ping with Redis down: %v", err)
	}
	if _, err := st.Session(ctx, "s_1"); !errors.Is(err, rooms.ErrUnavailable) {
		t.Fatalf("Session with Redis down: %v", err)
	}
	if _, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage}}, rooms.CommitOptions{}); !errors.Is(err, rooms.ErrUnavailable) {
		t.Fatalf("Commit with Redis down: %v", err)
	}

	srv.Restart(t)
	fresh, _ := newStore()
	got, err := fresh.Session(ctx, "s_1")
	storetest.Must(t, err)
	if got.Internal.Version != 1 || got.Customer.Email != "cara@example.com" {
		t.Fatalf("after restart: %+v", got)
	}
	evs, err := fresh.Events(ctx, "s_1", 0, 0)
	storetest.Must(t, err)
	if len(evs) != 1 || evs[0].Text != "kept" {
		t.Fatalf("events after restart: %+v", evs)
	}
	if a, err := fresh.AgentByEmail(ctx, "ann@example.com"); err != nil || string(a.PasswordHash) != "h" {
		t.Fatalf("agent after restart: %+v %v", a, err)
	}
}

// TestRedisClusterStore runs the contract on Redis Cluster: every command
// and script stays within one slot, and events go out by SPUBLISH.
func TestRedisClusterStore(t *testing.T) {
	srv := redistest.StartCluster(t)
	n := 0
	storetest.Run(t, func(t *testing.T) rooms.Store {
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}})
		t.Cleanup(func() { _ = rdb.Close() })
		n++
		return New(rdb, fmt.Sprintf("c%d:", n), Options{Sharded: true})
	})
}

// A message whose slot is still moving after the store's retries (every
// command on it answered ASK) is refused unconfirmed, not acknowledged
// without the replica's WAIT; it did not run, and once the slot has
// moved the same message goes through under its name, next in the log.
func TestClusterAppendDuringSlotMove(t *testing.T) {
	rc := redistest.StartShardedCluster(t, 3, 1)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs, Protocol: 2})
	t.Cleanup(func() { _ = rdb.Close() })
	st := New(rdb, "m:", Options{Sharded: true, MinReplicas: 1})
	ctx := context.Background()
	if _, err := st.Commit(ctx, storetest.NewSession("s_move", "a_1", "t_1", time.Now()), nil, rooms.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	send := func(name string) (rooms.Appended, error) {
		return st.Append(ctx, "s_move", rooms.MessageAppend{Now: time.Now(), Opts: rooms.CommitOptions{Once: name},
			Event: rooms.Event{Type: rooms.EventMessage, At: time.Now(), From: &rooms.Actor{Role: "customer"}, Text: name}})
	}
	first, err := send("first")
	if err != nil {
		t.Fatal(err)
	}
	slot := rc.Slot(t, "{s_move}")
	from := rc.Owner(t, slot)
	to := ""
	for _, m := range rc.Masters(t) {
		if m != from {
			to = m
		}
	}
	handOver := rc.MigrateSlotHeld(t, slot, from, to)
	if _, err := send("second"); !errors.Is(err, rooms.ErrUnavailable) {
		t.Fatalf("a message while its slot moves: %v, want unavailable", err)
	}
	handOver()
	second, err := send("second")
	if err != nil {
		t.Fatal(err)
	}
	if second.Event.Seq != first.Event.Seq+1 {
		t.Fatalf("after the move the message got seq %d, want %d", second.Event.Seq, first.Event.Seq+1)
	}
}
