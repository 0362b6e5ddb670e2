package presence

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redistest"
)

func TestMemory(t *testing.T) {
	trackerContract(t, func(*testing.T) Tracker { return NewMemory() })
}

func TestRedis(t *testing.T) {
	trackerContract(t, func(t *testing.T) Tracker {
		rdb, prefix := redistest.Client(t)
		return NewRedis(rdb, prefix)
	})
}

// TestRedisCluster proves no command crosses slots.
func TestRedisCluster(t *testing.T) {
	srv := redistest.StartCluster(t)
	n := 0
	trackerContract(t, func(t *testing.T) Tracker {
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr}})
		t.Cleanup(func() { _ = rdb.Close() })
		n++
		return NewRedis(rdb, fmt.Sprintf("c%d:", n))
	})
}

var t0 = time.UnixMilli(1_000_000_000)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func cust(id, room, node string) Conn {
	return Conn{ID: id, Room: room, Role: RoleCustomer, Node: node}
}

func agent(id, room, node string) Conn {
	return Conn{ID: id, Room: room, Role: RoleAgent, AgentID: "a_" + id, Name: "Agent " + id, Node: node}
}

func trackerContract(t *testing.T, newTracker func(*testing.T) Tracker) {
	ctx := context.Background()
	ids := func(t *testing.T, p Tracker, room string, now time.Time) []string {
		t.Helper()
		got, err := p.Rooms(ctx, []string{room}, now)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range got[room] {
			out = append(out, c.ID)
		}
		return out
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	same := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}

	t.Run("refresh and expiry", func(t *testing.T) {
		p := newTracker(t)
		must(t, p.Refresh(ctx, "n1", []Conn{cust("c1", "r1", "n1"), agent("c2", "r1", "n1")}, at(10_000)))
		got, err := p.Rooms(ctx, []string{"r1", "nobody"}, at(0))
		must(t, err)
		if len(got["r1"]) != 2 || got["r1"][1] != agent("c2", "r1", "n1") || got["nobody"] != nil {
			t.Fatalf("rooms: %+v", got)
		}
		if !CustomerOnline(got["r1"]) {
			t.Fatal("customer not online")
		}
		same(t, ids(t, p, "r1", at(10_000)))
		// Expired entries were removed, not only hidden.
		same(t, ids(t, p, "r1", at(0)))
	})
	t.Run("leave grace", func(t *testing.T) {
		p := newTracker(t)
		must(t, p.Refresh(ctx, "n1", []Conn{cust("c1", "r1", "n1")}, at(10_000)))
		must(t, p.Leave(ctx, []Conn{cust("c1", "r1", "n1"), cust("ghost", "r1", "n1")}, at(3_000)))
		same(t, ids(t, p, "r1", at(2_999)), "c1")
		must(t, p.Refresh(ctx, "n1", []Conn{cust("c1", "r1", "n1")}, at(13_000)))
		same(t, ids(t, p, "r1", at(5_000)), "c1")
		same(t, ids(t, p, "r1", at(13_000)))
	})
	t.Run("two nodes in one room", func(t *testing.T) {
		p := newTracker(t)
		must(t, p.Refresh(ctx, "n1", []Conn{agent("a1", "r1", "n1")}, at(10_000)))
		must(t, p.Refresh(ctx, "n2", []Conn{cust("c1", "r1", "n2")}, at(5_000)))
		same(t, ids(t, p, "r1", at(4_000)), "a1", "c1")
		same(t, ids(t, p, "r1", at(6_000)), "a1")
	})
	t.Run("reap dead nodes once", func(t *testing.T) {
		p := newTracker(t)
		must(t, p.Refresh(ctx, "dead", []Conn{cust("c1", "r1", "dead"), cust("c2", "r2", "dead")}, at(5_000)))
		must(t, p.Refresh(ctx, "live", []Conn{agent("a1", "r1", "live")}, at(50_000)))
		// The dead node's entries would count until 5 s; its liveness ran
		// out at 5 s too, so reaping at 6 s takes them all.
		var mu sync.Mutex
		var reaped []string
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := p.Reap(ctx, at(6_000))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				reaped = append(reaped, got...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if fmt.Sprint(sorted(reaped)) != "[r1 r2]" {
			t.Fatalf("reaped %v, want each of the dead node's rooms once", reaped)
		}
		same(t, ids(t, p, "r1", at(0)), "a1")
		more, err := p.Reap(ctx, at(6_000))
		must(t, err)
		if len(more) != 0 {
			t.Fatalf("reaped again: %v", more)
		}
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func BenchmarkRedisRefresh(b *testing.B) {
	rdb, prefix := redistest.Client(b)
	p := NewRedis(rdb, prefix)
	conns := make([]Conn, 1000)
	for i := range conns {
		conns[i] = cust(fmt.Sprint("c", i), fmt.Sprint("r", i%200), "n1")
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := p.Refresh(ctx, "n1", conns, time.Now().Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}
