package presence

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// TestRedisCluster proves no command crosses slots: Redis refuses those
// with CROSSSLOT even on a one-node cluster.
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

func TestCustomerOnline(t *testing.T) {
	if CustomerOnline(nil) {
		t.Error("nobody is online")
	}
	if CustomerOnline([]Conn{agent("a1", "r1", "n1")}) {
		t.Error("an agent is not a customer")
	}
	if !CustomerOnline([]Conn{agent("a1", "r1", "n1"), cust("c1", "r1", "n1")}) {
		t.Error("customer not seen")
	}
}

// t0 is an arbitrary fixed clock: the contract never reads the real one.
var t0 = time.UnixMilli(1_000_000)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func cust(id, room, node string) Conn {
	return Conn{ID: id, Room: room, Role: RoleCustomer, Node: node}
}

func agent(id, room, node string) Conn {
	return Conn{ID: id, Room: room, Role: RoleAgent, AgentID: "a_" + id, Name: "Agent " + id, Node: node}
}

// trackerContract is the behaviour every Tracker shares.
func trackerContract(t *testing.T, newTracker func(t *testing.T) Tracker) {
	t.Run("refresh shows entries with their info", func(t *testing.T) {
		p := newTracker(t)
		c1, c2, c3 := cust("c1", "r1", "n1"), agent("c2", "r1", "n1"), agent("c3", "r2", "n1")
		// Out of order on purpose: Rooms sorts by ID.
		refresh(t, p, "n1", at(10_000), c2, c3, c1)
		got := rooms(t, p, at(0), "r1", "r2", "nobody")
		if len(got) != 3 {
			t.Fatalf("rooms = %+v, want one key per asked room", got)
		}
		want := map[string][]Conn{"r1": {c1, c2}, "r2": {c3}, "nobody": nil}
		for room, w := range want {
			if !slices.Equal(got[room], w) {
				t.Errorf("%s = %+v, want %+v", room, got[room], w)
			}
		}
		if got["nobody"] != nil {
			t.Error("an unknown room must map to nil")
		}
		if !CustomerOnline(got["r1"]) || CustomerOnline(got["r2"]) {
			t.Errorf("customer online: r1 %v, r2 %v", CustomerOnline(got["r1"]), CustomerOnline(got["r2"]))
		}
	})
	t.Run("refresh replaces info", func(t *testing.T) {
		p := newTracker(t)
		a := agent("a1", "r1", "n1")
		refresh(t, p, "n1", at(10_000), a)
		a.Name = "Renamed"
		refresh(t, p, "n1", at(10_000), a)
		if got := rooms(t, p, at(0), "r1")["r1"]; !slices.Equal(got, []Conn{a}) {
			t.Fatalf("r1 = %+v", got)
		}
	})
	t.Run("expired entries are gone and removed", func(t *testing.T) {
		p := newTracker(t)
		refresh(t, p, "n1", at(10_000), cust("c1", "r1", "n1"))
		refresh(t, p, "n1", at(20_000), agent("a1", "r1", "n1"))
		same(t, ids(t, p, "r1", at(9_999)), "a1", "c1")
		// Live while the expiry is after now: at the expiry it is gone.
		same(t, ids(t, p, "r1", at(10_000)), "a1")
		// Removed, not only hidden: an earlier clock does not bring it back.
		same(t, ids(t, p, "r1", at(0)), "a1")
		same(t, ids(t, p, "r1", at(20_000)))
		if got := rooms(t, p, at(0), "r1")["r1"]; got != nil {
			t.Fatalf("empty room = %+v, want nil", got)
		}
	})
	t.Run("leave shortens to the grace", func(t *testing.T) {
		p := newTracker(t)
		refresh(t, p, "n1", at(10_000), cust("c1", "r1", "n1"))
		leave(t, p, at(3_000), cust("c1", "r1", "n1"))
		same(t, ids(t, p, "r1", at(2_999)), "c1")
		same(t, ids(t, p, "r1", at(3_000)))
		same(t, ids(t, p, "r1", at(0)))
	})
	t.Run("leave never adds", func(t *testing.T) {
		p := newTracker(t)
		refresh(t, p, "n1", at(10_000), cust("c1", "r1", "n1"))
		leave(t, p, at(3_000), cust("ghost", "r1", "n1"), cust("ghost", "r9", "n1"))
		same(t, ids(t, p, "r1", at(0)), "c1")
		same(t, ids(t, p, "r9", at(0)))
		// Nor does it revive an entry already removed.
		same(t, ids(t, p, "r1", at(10_000)))
		leave(t, p, at(30_000), cust("c1", "r1", "n1"))
		same(t, ids(t, p, "r1", at(0)))
	})
	t.Run("refresh after leave extends again", func(t *testing.T) {
		p := newTracker(t)
		c := cust("c1", "r1", "n1")
		refresh(t, p, "n1", at(10_000), c)
		leave(t, p, at(3_000), c)
		refresh(t, p, "n1", at(20_000), c)
		same(t, ids(t, p, "r1", at(15_000)), "c1")
		same(t, ids(t, p, "r1", at(20_000)))
	})
	t.Run("two nodes in one room", func(t *testing.T) {
		p := newTracker(t)
		a, c := agent("a1", "r1", "n1"), cust("c1", "r1", "n2")
		refresh(t, p, "n1", at(10_000), a)
		refresh(t, p, "n2", at(5_000), c)
		got := rooms(t, p, at(4_000), "r1")["r1"]
		if !slices.Equal(got, []Conn{a, c}) || !CustomerOnline(got) {
			t.Fatalf("r1 at 4s = %+v", got)
		}
		got = rooms(t, p, at(6_000), "r1")["r1"]
		if !slices.Equal(got, []Conn{a}) || CustomerOnline(got) {
			t.Fatalf("r1 at 6s = %+v", got)
		}
	})
	t.Run("empty batches", func(t *testing.T) {
		p := newTracker(t)
		refresh(t, p, "n1", at(10_000))
		leave(t, p, at(3_000))
		if got := rooms(t, p, at(0)); len(got) != 0 {
			t.Fatalf("rooms of nothing = %+v", got)
		}
		if got := reap(t, p, at(20_000)); got != nil {
			t.Fatalf("a node without entries reaped %v", got)
		}
	})
	t.Run("reap takes only dead nodes, each once", func(t *testing.T) {
		p := newTracker(t)
		// d1 and d2 die at 5 s; live stays until 50 s and shares r1 with d1.
		refresh(t, p, "d1", at(5_000), cust("c1", "r1", "d1"), cust("c2", "r2", "d1"), agent("c3", "r2", "d1"))
		refresh(t, p, "d2", at(5_000), cust("c4", "r3", "d2"))
		refresh(t, p, "live", at(50_000), agent("a1", "r1", "live"), agent("a2", "r4", "live"))
		if got := reap(t, p, at(4_999)); got != nil {
			t.Fatalf("reaped before the nodes died: %v", got)
		}
		var (
			mu     sync.Mutex
			reaped []string
			wg     sync.WaitGroup
			start  = make(chan struct{})
		)
		for range 4 {
			wg.Go(func() {
				<-start
				got, err := p.Reap(context.Background(), at(5_000))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				reaped = append(reaped, got...)
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		slices.Sort(reaped)
		same(t, reaped, "r1", "r2", "r3")
		// Read at 0, before the dead entries' own expiry: they were removed.
		got := rooms(t, p, at(0), "r1", "r2", "r3", "r4")
		for room, want := range map[string][]string{"r1": {"a1"}, "r2": nil, "r3": nil, "r4": {"a2"}} {
			same(t, connIDs(got[room]), want...)
		}
		if got := reap(t, p, at(5_000)); got != nil {
			t.Fatalf("reaped again: %v", got)
		}
		// The live node was not claimed: it is reaped once it dies.
		same(t, reap(t, p, at(50_000)), "r1", "r4")
	})
	t.Run("entries live while their node does", func(t *testing.T) {
		p := newTracker(t)
		// Entries that would live long; the node's liveness is what ends
		// them if it dies: a node refreshes one key, not every entry.
		if err := p.Refresh(context.Background(), "n1", []Conn{cust("c1", "r1", "n1"), agent("a1", "r2", "n1")}, at(600_000)); err != nil {
			t.Fatal(err)
		}
		alive(t, p, "n1", at(5_000))
		alive(t, p, "n1", at(8_000)) // a later liveness moves it on
		same(t, ids(t, p, "r1", at(7_000)), "c1")
		if got := reap(t, p, at(7_000)); got != nil {
			t.Fatalf("a live node was reaped: %v", got)
		}
		same(t, reap(t, p, at(8_000)), "r1", "r2")
		same(t, ids(t, p, "r1", at(8_000)))
		same(t, ids(t, p, "r2", at(8_000)))
		// A node that only says it is alive has nothing to reap.
		alive(t, p, "n2", at(1_000))
		if got := reap(t, p, at(9_000)); got != nil {
			t.Fatalf("a node without entries reaped %v", got)
		}
	})
	t.Run("a refreshed node is not reaped", func(t *testing.T) {
		p := newTracker(t)
		refresh(t, p, "n1", at(5_000), cust("c1", "r1", "n1"))
		refresh(t, p, "n1", at(15_000), cust("c1", "r1", "n1"))
		if got := reap(t, p, at(10_000)); got != nil {
			t.Fatalf("reaped a live node: %v", got)
		}
		same(t, ids(t, p, "r1", at(10_000)), "c1")
	})
}

// refresh upserts a node's entries and its liveness with one time, as a
// node that refreshed both would.
func refresh(t *testing.T, p Tracker, node string, until time.Time, conns ...Conn) {
	t.Helper()
	if err := p.Refresh(context.Background(), node, conns, until); err != nil {
		t.Fatal(err)
	}
	alive(t, p, node, until)
}

func alive(t *testing.T, p Tracker, node string, until time.Time) {
	t.Helper()
	if err := p.Alive(context.Background(), node, until); err != nil {
		t.Fatal(err)
	}
}

func leave(t *testing.T, p Tracker, at time.Time, conns ...Conn) {
	t.Helper()
	if err := p.Leave(context.Background(), conns, at); err != nil {
		t.Fatal(err)
	}
}

func rooms(t *testing.T, p Tracker, now time.Time, ids ...string) map[string][]Conn {
	t.Helper()
	got, err := p.Rooms(context.Background(), ids, now)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func reap(t *testing.T, p Tracker, now time.Time) []string {
	t.Helper()
	got, err := p.Reap(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func ids(t *testing.T, p Tracker, room string, now time.Time) []string {
	t.Helper()
	return connIDs(rooms(t, p, now, room)[room])
}

func connIDs(conns []Conn) []string {
	var out []string
	for _, c := range conns {
		out = append(out, c.ID)
	}
	return out
}

func same(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestRedisKeyLayout checks the keys DESIGN.md §2 names, with the room's
// hash tag, and that they carry a TTL so abandoned rooms vanish.
func TestRedisKeyLayout(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	p := NewRedis(rdb, prefix)
	ctx := context.Background()
	until := time.Now().Add(10 * time.Second) // real time: the TTLs derive from it
	refresh(t, p, "n1", until, cust("c1", "s_01K", "n1"))
	for key, typ := range map[string]string{
		prefix + "{s_01K}:presence":      "zset",
		prefix + "{s_01K}:presence:info": "hash",
		prefix + "presence:nodes":        "zset",
		prefix + "presence:node:n1":      "set",
	} {
		if got, err := rdb.Type(ctx, key).Result(); err != nil || got != typ {
			t.Errorf("%s is %q (%v), want %s", key, got, err, typ)
		}
	}
	for _, key := range []string{prefix + "{s_01K}:presence", prefix + "{s_01K}:presence:info", prefix + "presence:node:n1"} {
		ttl, err := rdb.PTTL(ctx, key).Result()
		if err != nil || ttl < keep || ttl > keep+10*time.Second {
			t.Errorf("%s ttl = %v (%v), want about 70s", key, ttl, err)
		}
	}
	score, err := rdb.ZScore(ctx, prefix+"{s_01K}:presence", "c1").Result()
	if err != nil || int64(score) != until.UnixMilli() {
		t.Errorf("entry score = %v (%v), want %d", score, err, until.UnixMilli())
	}
	score, err = rdb.ZScore(ctx, prefix+"presence:nodes", "n1").Result()
	if err != nil || int64(score) != until.UnixMilli() {
		t.Errorf("node score = %v (%v), want %d", score, err, until.UnixMilli())
	}
	if got, _ := rdb.SMembers(ctx, prefix+"presence:node:n1").Result(); !slices.Equal(got, []string{"s_01K"}) {
		t.Errorf("node rooms = %v", got)
	}
}

// TestRedisBadInfo: unreadable info hides its entry without failing the
// batch or the reaper.
func TestRedisBadInfo(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	p := NewRedis(rdb, prefix)
	ctx := context.Background()
	refresh(t, p, "n1", at(10_000), cust("c1", "r1", "n1"), cust("c2", "r1", "n1"))
	if err := rdb.HSet(ctx, prefix+"{r1}:presence:info", "c1", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	same(t, ids(t, p, "r1", at(0)), "c2")
	same(t, reap(t, p, at(10_000)), "r1")
}

// TestRedisReapRetried: a reaper that fails midway (here a room whose
// info is not a hash, as a master failing over would fail its share)
// puts the dead node back, and the next reap removes what is left.
func TestRedisReapRetried(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	p := NewRedis(rdb, prefix)
	ctx := context.Background()
	refresh(t, p, "n1", at(60_000), cust("c1", "r1", "n1"), cust("c2", "r2", "n1"))
	alive(t, p, "n1", at(1_000))
	bad := prefix + "{r2}:presence:info"
	info, err := rdb.HGetAll(ctx, bad).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, bad).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, bad, "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reap(ctx, at(2_000)); err == nil {
		t.Fatal("a reap that failed midway reported no error")
	}
	if err := rdb.ZScore(ctx, prefix+"presence:nodes", "n1").Err(); err != nil {
		t.Fatalf("the dead node was not put back for the next reap: %v", err)
	}
	if err := rdb.Del(ctx, bad).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, bad, info).Err(); err != nil {
		t.Fatal(err)
	}
	changed := reap(t, p, at(3_000))
	if !slices.Contains(changed, "r2") {
		t.Fatalf("the second reap changed %v, want r2 among them", changed)
	}
	same(t, ids(t, p, "r1", at(3_000)))
	same(t, ids(t, p, "r2", at(3_000)))
}

// TestRedisScriptsReload: a server that lost its script cache (a restart,
// SCRIPT FLUSH) gets the scripts again.
func TestRedisScriptsReload(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	p := NewRedis(rdb, prefix)
	ctx := context.Background()
	refresh(t, p, "n1", at(10_000), cust("c1", "r1", "n1"))
	same(t, ids(t, p, "r1", at(0)), "c1")
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	same(t, ids(t, p, "r1", at(0)), "c1")
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	same(t, reap(t, p, at(10_000)), "r1")
}

// TestRedisErrorsWrapped: Redis failures come back as presence errors.
func TestRedisErrorsWrapped(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	p := NewRedis(rdb, prefix)
	ctx := context.Background()
	// A wrong type under the room's zset key makes every call on it fail.
	if err := rdb.Set(ctx, prefix+"{r1}:presence", "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.HasPrefix(err.Error(), "presence: ") {
			t.Errorf("%s error = %v, want a wrapped Redis error", what, err)
		}
	}
	check("refresh", p.Refresh(ctx, "n1", []Conn{cust("c1", "r1", "n1")}, at(10_000)))
	check("leave", p.Leave(ctx, []Conn{cust("c1", "r1", "n1")}, at(3_000)))
	_, err := p.Rooms(ctx, []string{"r1"}, at(0))
	check("rooms", err)
}

// BenchmarkRedisRefresh is one node's batch: 1,000 connections in 200
// rooms.
func BenchmarkRedisRefresh(b *testing.B) {
	rdb, prefix := redistest.Client(b)
	p := NewRedis(rdb, prefix)
	conns := make([]Conn, 1000)
	for i := range conns {
		conns[i] = cust(fmt.Sprint("c", i), fmt.Sprint("r", i%200), "n1")
	}
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	for b.Loop() {
		if err := p.Refresh(ctx, "n1", conns, until); err != nil {
			b.Fatal(err)
		}
	}
}
