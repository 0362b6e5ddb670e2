package hub

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/rooms"
)

// fill logs n messages in a room.
func (c *cluster) fill(id string, n int, text string) {
	c.t.Helper()
	for i := range n {
		_, err := c.svc().PostMessage(context.Background(), id, rooms.Message{
			From: rooms.Actor{Role: "agent", ID: c.alex.ID}, Text: fmt.Sprint(text, i), AgentsHere: true})
		c.must(err)
	}
}

// unlimited lets the tests fill rooms fast.
func unlimited(cfg *rooms.Config) { cfg.MessageRate, cfg.MessageBurst = 1e6, 1e6 }

// A long replay comes a page at a time: a join whose replay is longer
// than a page gets that page with more:true and is not joined; the client
// joins again from next until the rest fits, then it is live. Every event
// arrives once, in order.
func TestReplayIsPaged(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := fast()
			cfg.ReplayPage = 50
			c := newClusterWith(t, backend, 1, cfg, unlimited)
			id, _ := c.session(rooms.CreateRequest{})
			c.fill(id, 120, "m")
			topic := roomTopic(id)
			cl := c.nodes[0].dial(t, "access_token="+c.tokens["alex"])
			since, pages := int64(0), 0
			for {
				d := cl.ok(map[string]any{"op": "join", "topic": topic, "since": since})
				if d["more"] != true {
					if d["session"] == nil || d["recovered"] != true {
						t.Fatalf("the last join is a join: %v", d)
					}
					break
				}
				if pages++; pages > 5 || d["session"] != nil {
					t.Fatalf("page %d: %v", pages, d)
				}
				next := int64(d["next"].(float64))
				if next-since != 50 {
					t.Fatalf("a page of %d events, want 50", next-since)
				}
				since = next
				// Not joined: sending needs the join.
				r := cl.call(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "x"}})
				if r.Data == nil || r.data()["code"] != codeNotJoined {
					t.Fatalf("send between pages: %s", r.raw)
				}
			}
			if pages != 2 {
				t.Fatalf("%d pages, want 2", pages)
			}
			cl.ok(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "live now"}})
			cl.await("the live message", func(f frame) bool { return f.Op == "event" && f.data()["text"] == "live now" })
			evs := cl.all(func(f frame) bool { return f.Op == "event" && f.Topic == topic })
			checkContiguous(t, evs)
			if len(evs) != c.fillCount(id) {
				t.Fatalf("%d events delivered, the log has %d", len(evs), c.fillCount(id))
			}
		})
	}
}

func (c *cluster) fillCount(id string) int {
	evs, err := c.svc().Store().Events(context.Background(), id, 0, 0)
	c.must(err)
	return len(evs)
}

// A client that asks for replays and never reads them is closed with 4008
// once they pass its queue's bound, instead of being held in memory
// (the review pinned 120 MB with 20 such connections).
func TestUnreadReplaysAreBounded(t *testing.T) {
	cfg := fast()
	cfg.PingEvery = time.Hour // the stalled reader must fall to its queue, not to a ping
	c := newClusterWith(t, "memory", 1, cfg, unlimited)
	id, link := c.session(rooms.CreateRequest{})
	c.fill(id, 300, strings.Repeat("😀", rooms.MaxMessageChars-3))
	cl := c.nodes[0].dial(t, "link="+link)
	cl.pause()
	for i := range 100 {
		cl.send(map[string]any{"op": "join", "ref": fmt.Sprint("j", i), "topic": roomTopic(id), "since": 0})
	}
	slow := c.nodes[0].node.metrics.SlowClosed
	deadline := time.Now().Add(waitLimit)
	for counter(slow) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("100 unread replays and the connection is still held")
		}
		time.Sleep(10 * time.Millisecond) // polling a server counter: nothing else shows the close to a stalled reader
	}
	cl.resume()
	if code := cl.closeStatus(); code != closeSlow {
		t.Fatalf("closed with %d, want 4008", code)
	}
}

// One customer session may hold only so many connections on a node (the
// next is closed with 4009 until one closes), and one agent only so many
// connections joined to one room (the next join is refused).
func TestConnectionsPerCredential(t *testing.T) {
	cfg := fast()
	cfg.MaxConnsPerLink, cfg.MaxAgentConnsPerRoom = 3, 2
	c := newCluster(t, "memory", 1, cfg)
	tn := c.nodes[0]
	id, link := c.session(rooms.CreateRequest{})
	otherID, other := c.session(rooms.CreateRequest{Customer: rooms.Customer{Email: "dana@example.com"}})
	var custs []*client
	for range 3 {
		custs = append(custs, tn.dial(t, "link="+link))
	}
	if code := tn.dial(t, "link="+link).closeStatus(); code != closeTooMany {
		t.Fatalf("a fourth connection of one link closed with %d, want 4009", code)
	}
	tn.dial(t, "link="+other) // another session has its own bound

	var tabs []*client
	for range 2 {
		tab := tn.dial(t, "access_token="+c.tokens["alex"])
		tab.ok(map[string]any{"op": "join", "topic": roomTopic(id)})
		tabs = append(tabs, tab)
	}
	third := tn.dial(t, "access_token="+c.tokens["alex"])
	if r := third.call(map[string]any{"op": "join", "topic": roomTopic(id)}); r.Status != "error" || r.data()["code"] != codeRateLimited {
		t.Fatalf("a third tab in one room: %s", r.raw)
	}
	third.ok(map[string]any{"op": "join", "topic": roomTopic(otherID)}) // another room is fine
	tabs[0].ok(map[string]any{"op": "leave", "topic": roomTopic(id)})
	third.ok(map[string]any{"op": "join", "topic": roomTopic(id)}) // a leave gives the place back

	// A closed connection gives its place back.
	_ = custs[0].ws.CloseNow()
	deadline := time.Now().Add(waitLimit)
	for {
		if again := tn.dial(t, "link="+link); again.holds() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection kept its place")
		}
		time.Sleep(10 * time.Millisecond) // the server unregisters a beat after the close; nothing announces it
	}
}

// holds says whether the server keeps the connection: it answers a ping
// rather than closing.
func (c *client) holds() bool {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(`{"op":"ping","ref":"holds"}`)); err != nil {
		return false
	}
	_, ok := c.within(waitLimit, func(f frame) bool { return f.Op == "reply" && f.Ref == "holds" })
	return ok
}
