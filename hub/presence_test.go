package hub_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/faultproxy"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/rooms"
)

// A customer who closes cleanly shows offline after the leave grace,
// not before; one who reconnects within the grace never shows offline.
func TestLeaveGrace(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := fast()
			// The reload must fit in the grace even on a loaded machine
			// (a -race run beside Chromium): the default grace is 3 s.
			cfg.LeaveGrace, cfg.PresenceTTL = 2*time.Second, 4*time.Second
			c := newCluster(t, backend, 2, cfg)
			l := c.live(0, 1)
			id, link, topic, agent, cust := l.id, l.link, l.topic, l.agent, l.cust
			// A reload: close and come back at once.
			cust.CloseWith(1000, "reload")
			again := c.customer(c.nodes[1], id, link)
			// The first connection's grace runs out while the second is
			// live: nothing to await, so wait it out.
			time.Sleep(cfg.LeaveGrace + 5*cfg.Tick) // asserting an absence
			if f, ok := agent.within(0, isStatus(topic, online(false))); ok {
				t.Fatalf("offline during a reload: %s\nall: %s", f.raw, agent.dump())
			}

			// Now leave for good.
			left := time.Now()
			_ = again.CloseWith(1000, "bye")
			st := agent.await("offline", isStatus(topic, online(false)))
			if gone := time.Since(left); gone < cfg.LeaveGrace {
				t.Fatalf("offline after %s, before the %s grace", gone, cfg.LeaveGrace)
			}
			if st.data()["state"] != rooms.OfflineIncomplete || st.data()["last_seen_at"] == nil {
				t.Fatalf("offline status %s", st.raw)
			}
		})
	}
}

// A node killed without cleanup: its customer shows offline on the
// other nodes within the presence TTL.
func TestDeadNodeCustomerGoesOffline(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := fast()
			c := newCluster(t, backend, 2, cfg)
			l := c.live(0, 1)
			topic, agent := l.topic, l.agent

			killed := time.Now()
			hub.Kill(c.nodes[1].node)
			agent.await("offline", isStatus(topic, online(false)))
			if took := time.Since(killed); took > cfg.PresenceTTL+3*time.Second {
				t.Fatalf("offline after %s; the TTL is %s", took, cfg.PresenceTTL)
			}
		})
	}
}

// A customer whose connection stays open but who stops answering pings
// shows offline within ping interval + pong wait + grace.
func TestSilentCustomerGoesOffline(t *testing.T) {
	cfg := fast()
	c := newCluster(t, "redis", 2, cfg)
	l := c.live(0, 1)
	topic, agent, cust := l.topic, l.agent, l.cust

	silent := time.Now()
	cust.pause()
	agent.await("offline", isStatus(topic, online(false)))
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
			c := newCluster(t, backend, 2, fast())
			id, link := c.session(rooms.CreateRequest{})
			agent := c.agent(c.nodes[0], id)
			deadline := time.Now().Add(waitLimit)
			for {
				view, err := c.nodes[1].backend.Presence.Rooms(t.Context(), []string{id}, time.Now())
				c.must(err)
				if len(view[id]) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the agent's presence never showed")
				}
				time.Sleep(10 * time.Millisecond) // polling the tracker, not waiting on the room
			}
			cust := c.customer(c.nodes[1], id, link)
			f := cust.await("presence", func(f frame) bool { return f.Op == "presence" && f.Topic == bus.RoomTopic(id) })
			agents, _ := f.data()["agents"].([]any)
			if len(agents) != 1 || agents[0].(map[string]any)["id"] != c.alex.ID {
				t.Fatalf("the first presence frame: %s", f.raw)
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
	cfg := fast()
	srv := redistest.Start(t)
	links := map[string]*faultproxy.Proxy{}
	topo := &redisTopo{dial: func(name string) redis.UniversalClient {
		p, err := faultproxy.New(srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		links[name] = p
		return redis.NewClient(&redis.Options{Addr: p.Addr()})
	}}
	c := newClusterOn(t, "redis", topo, 2, cfg, nil)
	l := c.live(0, 1)
	topic, agent := l.topic, l.agent

	links[c.nodes[1].node.ID()].Set(faultproxy.ModeCut, 0)
	srv.Stop()
	time.Sleep(cfg.PresenceTTL * 3 / 2) // the outage itself: every liveness runs out meanwhile
	srv.Restart(t)
	time.Sleep(cfg.PresenceTTL / 2) // the customer's node is cut off a while longer
	links[c.nodes[1].node.ID()].Set(faultproxy.ModeForward, 0)
	if f, ok := agent.within(2*cfg.PresenceTTL, isStatus(topic, online(false))); ok {
		t.Fatalf("the customer showed offline after the outage: %s", f.raw)
	}
	view, err := c.nodes[0].backend.Presence.Rooms(t.Context(), []string{l.id}, time.Now())
	c.must(err)
	if len(view[l.id]) != 2 {
		t.Fatalf("presence after the outage: %+v, want the agent and the customer", view[l.id])
	}
}

// An agent and a customer join a new room at the same moment on two
// nodes: the agent may learn the customer is online from the join reply
// or from a status, but is never told offline afterwards (a presence read
// begun before the customer's entry must not overwrite the reply).
func TestNoOfflineFlickerAtFirstJoin(t *testing.T) {
	c := newCluster(t, "redis", 2, fast())
	const n = 20
	topics, links, agents := make([]string, n), make([]string, n), make([]*client, n)
	for i := range n {
		var id string
		id, links[i] = c.session(rooms.CreateRequest{})
		topics[i] = bus.RoomTopic(id)
		agents[i] = c.nodes[0].dial(t, "access_token="+c.tokens["alex"])
	}
	custs := make([]*client, n)
	for i := range n {
		custs[i] = c.nodes[1].dial(t, "link="+links[i])
	}
	for i := range n { // both joins of a room on the wire together
		agents[i].send(map[string]any{"op": "join", "ref": "j", "topic": topics[i]})
		custs[i].send(map[string]any{"op": "join", "ref": "j", "topic": topics[i]})
	}
	for i, a := range agents {
		reply := a.await("the join reply", func(f frame) bool { return f.Op == "reply" && f.Ref == "j" })
		if ind, _ := reply.data()["indicator"].(map[string]any); ind["online"] != true {
			a.await("the customer online", isStatus(topics[i], online(true)))
		}
	}
	// A stale read lands within moments of the join: give it a second,
	// then look at everything each agent was told.
	last := agents[n-1]
	last.within(time.Second, isStatus(topics[n-1], online(false)))
	for i, a := range agents {
		if fs := a.all(isStatus(topics[i], online(false))); len(fs) > 0 {
			t.Fatalf("room %d: the agent was told the customer went offline: %s", i, fs[0].raw)
		}
	}
}

// An agent who joins a room whose own view of presence is older than the
// agent's snapshot is never told the customer is offline after its
// reply said online: here the room missed the customer's join hint, so
// its view still says offline while the store says online.
func TestJoinerNotToldAStaleView(t *testing.T) {
	c := newCluster(t, "memory", 2, fast())
	id, link := c.session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	first := c.agent(c.nodes[0], id)
	first.await("the room's view: offline", func(f frame) bool {
		return f.Op == "presence" && f.Topic == topic && f.data()["customer_online"] == false
	})
	c.dropHints.Store(true)
	c.customer(c.nodes[1], id, link)

	second := c.nodes[0].dial(t, "access_token="+c.tokens["alex"])
	reply := second.ok(map[string]any{"op": "join", "topic": topic})
	if ind, _ := reply["indicator"].(map[string]any); ind["online"] != true {
		t.Fatalf("the join reply's indicator: %v", reply["indicator"])
	}
	f := second.await("presence after the reply", func(f frame) bool { return f.Op == "presence" && f.Topic == topic })
	if f.data()["customer_online"] != true {
		t.Fatalf("told the customer is offline after a reply that said online: %s", f.raw)
	}
}
