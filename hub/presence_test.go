package hub_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/faultproxy"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

// A customer who closes cleanly shows offline after the leave grace,
// not before; one who reconnects within the grace never shows offline.
func TestLeaveGrace(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := livetest.Fast()
			// The reload must fit in the grace even on a loaded machine
			// (a -race run beside Chromium): the default grace is 3 s.
			cfg.LeaveGrace, cfg.PresenceTTL = 2*time.Second, 4*time.Second
			c := newCluster(t, backend, 2, cfg)
			l := c.Live(0, 1)
			id, link, topic, agent, cust := l.ID, l.Link, l.Topic, l.Agent, l.Cust
			// A reload: close and come back at once.
			cust.CloseWith(1000, "reload")
			again := c.Customer(c.Nodes[1], id, link)
			// The first connection's grace runs out while the second is
			// live: nothing to await, so wait it out.
			time.Sleep(cfg.LeaveGrace + 5*cfg.Tick) // asserting an absence
			if f, ok := agent.Within(0, livetest.IsStatus(topic, livetest.Online(false))); ok {
				t.Fatalf("offline during a reload: %s\nall: %s", f.Raw, agent.Dump())
			}

			// Now leave for good.
			left := time.Now()
			_ = again.CloseWith(1000, "bye")
			st := agent.Await("offline", livetest.IsStatus(topic, livetest.Online(false)))
			if gone := time.Since(left); gone < cfg.LeaveGrace {
				t.Fatalf("offline after %s, before the %s grace", gone, cfg.LeaveGrace)
			}
			if st.Map()["state"] != rooms.OfflineIncomplete || st.Map()["last_seen_at"] == nil {
				t.Fatalf("offline status %s", st.Raw)
			}
		})
	}
}

// A node killed without cleanup: its customer shows offline on the
// other nodes within the presence TTL.
func TestDeadNodeCustomerGoesOffline(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := livetest.Fast()
			c := newCluster(t, backend, 2, cfg)
			l := c.Live(0, 1)
			topic, agent := l.Topic, l.Agent

			killed := time.Now()
			hub.Kill(c.Nodes[1].Hub)
			agent.Await("offline", livetest.IsStatus(topic, livetest.Online(false)))
			if took := time.Since(killed); took > cfg.PresenceTTL+3*time.Second {
				t.Fatalf("offline after %s; the TTL is %s", took, cfg.PresenceTTL)
			}
		})
	}
}

// A customer whose connection stays open but who stops answering pings
// shows offline within ping interval + pong wait + grace.
func TestSilentCustomerGoesOffline(t *testing.T) {
	cfg := livetest.Fast()
	c := newCluster(t, "redis", 2, cfg)
	l := c.Live(0, 1)
	topic, agent, cust := l.Topic, l.Agent, l.Cust

	silent := time.Now()
	cust.Pause()
	agent.Await("offline", livetest.IsStatus(topic, livetest.Online(false)))
	limit := cfg.PingEvery + cfg.PongWait + cfg.LeaveGrace + 2*cfg.Tick
	if took := time.Since(silent); took > limit+3*time.Second {
		t.Fatalf("offline after %s; the limit is %s", took, limit)
	}
}

// A customer who joins a room an agent is already in learns it with the
// join: a presence frame follows the reply (later frames only say what
// changed), so the customer page shows "your agent is here" at once.
func TestJoinerGetsPresence(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			c := newCluster(t, backend, 2, livetest.Fast())
			id, link := c.Session(rooms.CreateRequest{})
			agent := c.Agent(c.Nodes[0], id)
			deadline := time.Now().Add(livetest.WaitLimit)
			for {
				view, err := c.Nodes[1].Backend.Presence.Rooms(t.Context(), []string{id}, time.Now())
				c.Must(err)
				if len(view[id]) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the agent's presence never showed")
				}
				time.Sleep(10 * time.Millisecond) // polling the tracker, not waiting on the room
			}
			cust := c.Customer(c.Nodes[1], id, link)
			f := cust.Await("presence", func(f livetest.Frame) bool { return f.Op == "presence" && f.Topic == bus.RoomTopic(id) })
			agents, _ := f.Map()["agents"].([]any)
			if len(agents) != 1 || agents[0].(map[string]any)["id"] != c.Alex.ID {
				t.Fatalf("the first presence frame: %s", f.Raw)
			}
			_ = agent
		})
	}
}

// Redis restarts for longer than the presence TTL with everyone still
// connected, and the customer's node is cut off from it a while longer:
// no node may take another for dead on liveness it could not renew
// either, so the customer never shows offline to the agent.
func TestRedisOutageReapsNobody(t *testing.T) {
	cfg := livetest.Fast()
	srv := redistest.Start(t)
	links := map[string]*faultproxy.Proxy{}
	topo := &livetest.RedisTopology{Dial: func(name string) redis.UniversalClient {
		p, err := faultproxy.New(srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		links[name] = p
		return redis.NewClient(&redis.Options{Addr: p.Addr()})
	}}
	c := newClusterOn(t, "redis", topo, 2, cfg, nil)
	l := c.Live(0, 1)
	topic, agent := l.Topic, l.Agent

	links[c.Nodes[1].Hub.ID()].Set(faultproxy.ModeCut, 0)
	srv.Stop()
	time.Sleep(cfg.PresenceTTL * 3 / 2) // the outage itself: every liveness runs out meanwhile
	srv.Restart(t)
	time.Sleep(cfg.PresenceTTL / 2) // the customer's node is cut off a while longer
	links[c.Nodes[1].Hub.ID()].Set(faultproxy.ModeForward, 0)
	if f, ok := agent.Within(2*cfg.PresenceTTL, livetest.IsStatus(topic, livetest.Online(false))); ok {
		t.Fatalf("the customer showed offline after the outage: %s", f.Raw)
	}
	view, err := c.Nodes[0].Backend.Presence.Rooms(t.Context(), []string{l.ID}, time.Now())
	c.Must(err)
	if len(view[l.ID]) != 2 {
		t.Fatalf("presence after the outage: %+v, want the agent and the customer", view[l.ID])
	}
}

// An agent and a customer join a new room at the same moment on two
// nodes: the agent may learn the customer is online from the join reply
// or from a status, but is never told offline afterwards (a presence read
// begun before the customer's entry must not overwrite the reply).
func TestNoOfflineFlickerAtFirstJoin(t *testing.T) {
	c := newCluster(t, "redis", 2, livetest.Fast())
	const n = 20
	topics, links, agents := make([]string, n), make([]string, n), make([]*livetest.Client, n)
	for i := range n {
		var id string
		id, links[i] = c.Session(rooms.CreateRequest{})
		topics[i] = bus.RoomTopic(id)
		agents[i] = c.Nodes[0].Dial(t, wsclient.Agent(c.Tokens["alex"]))
	}
	custs := make([]*livetest.Client, n)
	for i := range n {
		custs[i] = c.Nodes[1].Dial(t, wsclient.Customer(links[i], ""))
	}
	for i := range n { // both joins of a room on the wire together
		agents[i].MustWrite(map[string]any{"op": "join", "ref": "j", "topic": topics[i]})
		custs[i].MustWrite(map[string]any{"op": "join", "ref": "j", "topic": topics[i]})
	}
	for i, a := range agents {
		reply := a.Await("the join reply", func(f livetest.Frame) bool { return f.Op == "reply" && f.Ref == "j" })
		if ind, _ := reply.Map()["indicator"].(map[string]any); ind["online"] != true {
			a.Await("the customer online", livetest.IsStatus(topics[i], livetest.Online(true)))
		}
	}
	// A stale read lands within moments of the join: give it a second,
	// then look at everything each agent was told.
	last := agents[n-1]
	last.Within(time.Second, livetest.IsStatus(topics[n-1], livetest.Online(false)))
	for i, a := range agents {
		if fs := a.All(livetest.IsStatus(topics[i], livetest.Online(false))); len(fs) > 0 {
			t.Fatalf("room %d: the agent was told the customer went offline: %s", i, fs[0].Raw)
		}
	}
}

// An agent who joins a room whose own view of presence is older than the
// agent's snapshot is never told the customer is offline after its
// reply said online: here the room missed the customer's join hint, so
// its view still says offline while the store says online.
func TestJoinerNotToldAStaleView(t *testing.T) {
	c := newCluster(t, "memory", 2, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	first := c.Agent(c.Nodes[0], id)
	first.Await("the room's view: offline", func(f livetest.Frame) bool {
		return f.Op == "presence" && f.Topic == topic && f.Map()["customer_online"] == false
	})
	c.DropHints.Store(true)
	c.Customer(c.Nodes[1], id, link)

	second := c.Nodes[0].Dial(t, wsclient.Agent(c.Tokens["alex"]))
	reply := second.OK(map[string]any{"op": "join", "topic": topic})
	if ind, _ := reply["indicator"].(map[string]any); ind["online"] != true {
		t.Fatalf("the join reply's indicator: %v", reply["indicator"])
	}
	f := second.Await("presence after the reply", func(f livetest.Frame) bool { return f.Op == "presence" && f.Topic == topic })
	if f.Map()["customer_online"] != true {
		t.Fatalf("told the customer is offline after a reply that said online: %s", f.Raw)
	}
}
