package hub_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/rooms"
)

// messages reads the room log's message events.
func messages(c *livetest.Cluster, id string) []rooms.Event {
	c.T.Helper()
	evs, err := c.Service().Store().Events(context.Background(), id, 0, 0)
	c.Must(err)
	var out []rooms.Event
	for _, e := range evs {
		if e.Type == rooms.EventMessage {
			out = append(out, e)
		}
	}
	return out
}

// The review's repro: with the history index broken, one send used to be
// committed again by every retry (5 message events). A commit that
// happened reports success; the index is repaired once Redis takes it.
func TestSendWithABrokenIndexIsLoggedOnce(t *testing.T) {
	c := newCluster(t, "redis", 1, livetest.Fast())
	l := c.Live(0, 0)
	rdb := c.RedisClient()
	ctx := context.Background()
	c.Must(rdb.Del(ctx, c.Prefix+"idx:all").Err())
	c.Must(rdb.Set(ctx, c.Prefix+"idx:all", "not a sorted set", 0).Err())

	r := l.Cust.Call(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": "once"}})
	if r.Status != "ok" {
		t.Fatalf("send: %s", r.Raw)
	}
	l.Agent.Await("the message", livetest.IsEvent(l.Topic, rooms.EventMessage))
	if n := len(messages(c, l.ID)); n != 1 {
		t.Fatalf("one send logged %d times", n)
	}

	c.Must(rdb.Del(ctx, c.Prefix+"idx:all").Err())
	deadline := time.Now().Add(livetest.WaitLimit)
	for rdb.ZScore(ctx, c.Prefix+"idx:all", l.ID).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the history index was not repaired")
		}
		time.Sleep(20 * time.Millisecond) // polling the repair loop: it announces nothing
	}
}

// A client that resends a send with the same id after reconnecting, on
// another node, gets the first seq back and the room logs it once.
func TestResendAfterReconnectIsLoggedOnce(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			c := newCluster(t, backend, 2, livetest.Fast())
			l := c.Live(0, 1)
			send := func(cl *livetest.Client, id, text string) int64 {
				t.Helper()
				return int64(cl.OK(map[string]any{"op": "send", "topic": l.Topic, "id": id, "data": map[string]string{"text": text}})["seq"].(float64))
			}
			first := send(l.Cust, "m-1", "are you there?")
			agentSeq := send(l.Agent, "m-1", "yes") // another sender's id is its own
			again := c.Customer(c.Nodes[0], l.ID, l.Link)
			if seq := send(again, "m-1", "are you there?"); seq != first {
				t.Fatalf("the resend got seq %d, the first %d", seq, first)
			}
			if seq := send(c.Agent(c.Nodes[1], l.ID), "m-1", "yes"); seq != agentSeq {
				t.Fatalf("the agent's resend got seq %d, the first %d", seq, agentSeq)
			}
			if msgs := messages(c, l.ID); len(msgs) != 2 {
				t.Fatalf("%d messages logged, want 2: %+v", len(msgs), msgs)
			}
			bad := again.Call(map[string]any{"op": "send", "topic": l.Topic, "id": fmt.Sprintf("%065d", 1), "data": map[string]string{"text": "x"}})
			if bad.Status != "error" || bad.Map()["code"] != "validation_failed" {
				t.Fatalf("an over-long id: %s", bad.Raw)
			}
		})
	}
}

// A sender's message rate holds across its connections and nodes: more
// connections do not send faster. Refusals say when to try again.
func TestMessageRateAcrossConnections(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			// One message per 100 s, 5 at once: the test never waits for a refill.
			c := newClusterWith(t, backend, 2, livetest.Fast(), func(cfg *rooms.Config) {
				cfg.MessageRate, cfg.MessageBurst = 0.01, 5
			})
			l := c.Live(0, 1)
			conns := []*livetest.Client{l.Cust, c.Customer(c.Nodes[0], l.ID, l.Link), c.Customer(c.Nodes[1], l.ID, l.Link)}
			ok, limited := 0, 0
			for i := range 12 {
				r := conns[i%len(conns)].Call(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": fmt.Sprint("flood ", i)}})
				switch d := r.Map(); {
				case r.Status == "ok":
					ok++
				case d["code"] == "rate_limited" && d["retry_after_ms"].(float64) > 0:
					limited++
				default:
					t.Fatalf("send %d: %s", i, r.Raw)
				}
			}
			if ok != 5 || limited != 7 {
				t.Fatalf("%d sent, %d refused; want 5 and 7", ok, limited)
			}
			// The agent's own rate is untouched by the customer's flood.
			l.Agent.OK(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": "I am still here"}})
		})
	}
}

// A full room refuses the customer's messages, never locks the agent out.
func TestFullRoomKeepsTheAgent(t *testing.T) {
	c := newClusterWith(t, "redis", 1, livetest.Fast(), func(cfg *rooms.Config) { cfg.MaxRoomEvents = 5 })
	l := c.Live(0, 0)
	for i := 0; ; i++ {
		r := l.Cust.Call(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": fmt.Sprint("fill ", i)}})
		if r.Status == "ok" {
			continue
		}
		if r.Map()["code"] != "room_full" || i == 0 {
			t.Fatalf("send %d: %s", i, r.Raw)
		}
		break
	}
	l.Agent.OK(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": "the agent can still talk"}})
	_, err := c.Service().Sessions.End(context.Background(), c.Alex, l.ID)
	c.Must(err)
}

// Past its bound of sends in flight a node refuses at once with
// "overloaded" and when to try again, instead of queueing: here the one
// slot is held by a send waiting for a paused Redis. A resend with the
// same id once the slot is free is logged once.
func TestOverloadedRefusesAtOnce(t *testing.T) {
	cfg := livetest.Fast()
	cfg.MaxInflight = 1
	c := newCluster(t, "redis", 1, cfg)
	l := c.Live(0, 0)
	unpause := holdSend(t, c, l)
	r := l.Agent.Call(map[string]any{"op": "send", "topic": l.Topic, "id": "m-2", "data": map[string]string{"text": "busy?"}})
	if r.Status != "error" || r.Map()["code"] != hub.CodeOverloaded || r.Map()["retry_after_ms"].(float64) <= 0 {
		t.Fatalf("a send past the bound: %s", r.Raw)
	}
	unpause()
	l.Cust.Await("the held send's reply", func(f livetest.Frame) bool { return f.Op == "reply" && f.Ref == "held" && f.Status == "ok" })
	// The held send waited on Redis: past LateAfter (a loaded machine)
	// the node also refuses for a moment, and the client resends after
	// retry_after_ms, as live.js does.
	refused := 1
	for {
		r := l.Agent.Call(map[string]any{"op": "send", "topic": l.Topic, "id": "m-2", "data": map[string]string{"text": "busy?"}})
		if r.Status == "ok" {
			break
		}
		if r.Map()["code"] != hub.CodeOverloaded || refused > 20 {
			t.Fatalf("the resend: %s", r.Raw)
		}
		refused++
		time.Sleep(time.Duration(r.Map()["retry_after_ms"].(float64)) * time.Millisecond) // the wait the reply asks for
	}
	if n := len(messages(c, l.ID)); n != 2 {
		t.Fatalf("%d messages logged, want 2", n)
	}
	if n := counter(c.Nodes[0].Metrics.Overloaded); n != float64(refused) {
		t.Fatalf("overloaded counted %v times, refused %d", n, refused)
	}
}

// Work that waited past LateAfter makes the node refuse new sends for a
// moment, then admit again: overload is judged by lateness too, since a
// saturated node builds its backlog where nothing is in flight.
func TestLateNodeRefusesForAMoment(t *testing.T) {
	c := newCluster(t, "memory", 1, livetest.Fast())
	n := c.Nodes[0].Hub
	hub.Waited(n, hub.Settings(n).LateAfter/2)
	if !hub.Admit(n) {
		t.Fatal("a prompt node refused")
	}
	hub.Done(n)
	hub.Waited(n, 2*hub.Settings(n).LateAfter)
	if hub.Admit(n) {
		t.Fatal("a late node admitted")
	}
	deadline := time.Now().Add(livetest.WaitLimit)
	for !hub.Admit(n) {
		if time.Now().After(deadline) {
			t.Fatal("the node never admitted again")
		}
		time.Sleep(10 * time.Millisecond) // the window runs on the clock
	}
	hub.Done(n)
}

// A logged send is timed from its frame's read to its commit, so that
// cohub_send_seconds shows what the node and Redis add to a message:
// here Redis holds the commit a while, and the time counts the hold.
func TestSendIsTimedToItsCommit(t *testing.T) {
	c := newCluster(t, "redis", 1, livetest.Fast())
	l := c.Live(0, 0)
	took := c.Nodes[0].Metrics.SendTook
	before := histogram(took)
	unpause := holdSend(t, c, l)
	const hold = 150 * time.Millisecond
	time.Sleep(hold) // the time the metric must count, not a wait for an event
	unpause()
	l.Cust.Await("the held send's reply", func(f livetest.Frame) bool { return f.Op == "reply" && f.Ref == "held" && f.Status == "ok" })
	after := histogram(took)
	if n := after.GetSampleCount() - before.GetSampleCount(); n != 1 {
		t.Fatalf("%d sends timed, want 1", n)
	}
	if d := after.GetSampleSum() - before.GetSampleSum(); d < hold.Seconds() {
		t.Fatalf("the held send was timed at %.3f s, under the %v Redis held it", d, hold)
	}
}

// holdSend pauses the cluster's Redis for writes and sends l's customer
// a send ("held", id "m-held") that then waits in flight on node 0. The
// func returned unpauses Redis; it also runs at cleanup, and only once.
func holdSend(t *testing.T, c *livetest.Cluster, l livetest.Live) (unpause func()) {
	t.Helper()
	rdb := c.RedisClient()
	ctx := context.Background()
	c.Must(rdb.Do(ctx, "CLIENT", "PAUSE", "60000", "WRITE").Err())
	var once sync.Once
	unpause = func() { once.Do(func() { c.Must(rdb.Do(ctx, "CLIENT", "UNPAUSE").Err()) }) }
	t.Cleanup(unpause)
	l.Cust.MustWrite(map[string]any{"op": "send", "ref": "held", "topic": l.Topic, "id": "m-held", "data": map[string]string{"text": "held"}})
	// Polling the node's counter: the frame travels on its own.
	waitUntil(t, "the held send to go in flight", livetest.WaitLimit, func() bool { return hub.InFlight(c.Nodes[0].Hub) > 0 })
	return unpause
}
