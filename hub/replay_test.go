package hub_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/wsclient"

	"github.com/cohub/cohub/rooms"
)

// A long replay comes a page at a time: a join whose replay is longer
// than a page gets that page with more:true and is not joined; the client
// joins again from next until the rest fits, then it is live. Every event
// arrives once, in order.
func TestReplayIsPaged(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := livetest.Fast()
			cfg.ReplayPage = 50
			c := newClusterWith(t, backend, 1, cfg, livetest.Unlimited)
			id, _ := c.Session(rooms.CreateRequest{})
			c.Fill(id, 120, "m")
			topic := bus.RoomTopic(id)
			cl := c.Nodes[0].Dial(t, wsclient.Agent(c.Tokens["alex"]))
			since, pages := int64(0), 0
			for {
				d := cl.OK(map[string]any{"op": "join", "topic": topic, "since": since})
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
				r := cl.Call(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "x"}})
				if r.Data == nil || r.Map()["code"] != hub.CodeNotJoined {
					t.Fatalf("send between pages: %s", r.Raw)
				}
			}
			if pages != 2 {
				t.Fatalf("%d pages, want 2", pages)
			}
			cl.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "live now"}})
			cl.Await("the live message", func(f livetest.Frame) bool { return f.Op == "event" && f.Map()["text"] == "live now" })
			evs := cl.All(func(f livetest.Frame) bool { return f.Op == "event" && f.Topic == topic })
			checkContiguous(t, evs)
			if len(evs) != fillCount(c, id) {
				t.Fatalf("%d events delivered, the log has %d", len(evs), fillCount(c, id))
			}
		})
	}
}

func fillCount(c *livetest.Cluster, id string) int {
	evs, err := c.Service().Store().Events(context.Background(), id, 0, 0)
	c.Must(err)
	return len(evs)
}

// A client that asks for replays and never reads them is closed with 4008
// once they pass its queue's bound, instead of being held in memory
// (the review pinned 120 MB with 20 such connections).
func TestUnreadReplaysAreBounded(t *testing.T) {
	cfg := livetest.Fast()
	cfg.PingEvery = time.Hour // the stalled reader must fall to its queue, not to a ping
	c := newClusterWith(t, "memory", 1, cfg, livetest.Unlimited)
	id, link := c.Session(rooms.CreateRequest{})
	c.Fill(id, 600, strings.Repeat("😀", rooms.MaxMessageChars-3))
	cl := c.Nodes[0].Dial(t, wsclient.Customer(link, ""))
	cl.Pause()
	for i := range 100 {
		cl.MustWrite(map[string]any{"op": "join", "ref": fmt.Sprint("j", i), "topic": bus.RoomTopic(id), "since": 0})
	}
	slow := c.Nodes[0].Metrics.SlowClosed
	deadline := time.Now().Add(livetest.WaitLimit)
	for counter(slow) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("100 unread replays and the connection is still held")
		}
		time.Sleep(10 * time.Millisecond) // polling a server counter: nothing else shows the close to a stalled reader
	}
	cl.Resume()
	if code := cl.AwaitClose(); code != hub.CloseSlow {
		t.Fatalf("closed with %d, want 4008", code)
	}
}

// One customer session may hold only so many connections on a node (the
// next is closed with 4009 until one closes), and one agent only so many
// connections joined to one room (the next join is refused).
func TestConnectionsPerCredential(t *testing.T) {
	cfg := livetest.Fast()
	cfg.MaxConnsPerLink, cfg.MaxAgentConnsPerRoom = 3, 2
	c := newCluster(t, "memory", 1, cfg)
	tn := c.Nodes[0]
	id, link := c.Session(rooms.CreateRequest{})
	otherID, other := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Email: "dana@example.com"}})
	var custs []*livetest.Client
	for range 3 {
		custs = append(custs, tn.Dial(t, wsclient.Customer(link, "")))
	}
	if code := tn.Dial(t, wsclient.Customer(link, "")).AwaitClose(); code != hub.CloseTooMany {
		t.Fatalf("a fourth connection of one link closed with %d, want 4009", code)
	}
	tn.Dial(t, wsclient.Customer(other, "")) // another session has its own bound

	var tabs []*livetest.Client
	for range 2 {
		tab := tn.Dial(t, wsclient.Agent(c.Tokens["alex"]))
		tab.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
		tabs = append(tabs, tab)
	}
	third := tn.Dial(t, wsclient.Agent(c.Tokens["alex"]))
	if r := third.Call(map[string]any{"op": "join", "topic": bus.RoomTopic(id)}); r.Status != "error" || r.Map()["code"] != hub.CodeRateLimited {
		t.Fatalf("a third tab in one room: %s", r.Raw)
	}
	third.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(otherID)}) // another room is fine
	tabs[0].OK(map[string]any{"op": "leave", "topic": bus.RoomTopic(id)})
	third.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)}) // a leave gives the place back

	// A closed connection gives its place back.
	_ = custs[0].CloseNow()
	deadline := time.Now().Add(livetest.WaitLimit)
	for {
		if again := tn.Dial(t, wsclient.Customer(link, "")); holds(again) {
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
func holds(c *livetest.Client) bool {
	ctx, cancel := context.WithTimeout(context.Background(), livetest.WaitLimit)
	defer cancel()
	if err := c.WriteRaw(ctx, []byte(`{"op":"ping","ref":"holds"}`)); err != nil {
		return false
	}
	_, ok := c.Within(livetest.WaitLimit, func(f livetest.Frame) bool { return f.Op == "reply" && f.Ref == "holds" })
	return ok
}

// A connection being served a replay page counts against the per-room
// bound like a joined one until the page has left its queue: an agent
// whose tabs ask for pages and do not read them gets no more pages past
// MaxAgentConnsPerRoom (the review queued a page on each of 200 sockets
// and the node grew from 242 MB to 1.05 GB). Reading the page, or
// leaving the room, gives the place back.
func TestReplayPagesCountAgainstTheRoomBound(t *testing.T) {
	cfg := livetest.Fast()
	cfg.PingEvery = time.Hour // the stalled readers must keep their pages, not fall to a ping
	cfg.MaxAgentConnsPerRoom = 3
	c := newClusterWith(t, "memory", 1, cfg, livetest.Unlimited)
	tn := c.Nodes[0]
	id, link := c.Session(rooms.CreateRequest{})
	c.Fill(id, 300, strings.Repeat("😀", rooms.MaxMessageChars-3)) // pages of 2 MB
	topic := bus.RoomTopic(id)
	page := int64(hub.Settings(tn.Hub).ReplayPage)
	agent := wsclient.Agent(c.Tokens["alex"])

	// Each stalled tab reads its page's reply, then nothing more.
	stalling := stallingNode(t, tn)
	var stalled []*livetest.Client
	for i := range cfg.MaxAgentConnsPerRoom {
		tab := dialWithSmallBuffer(stalling, tn, t, agent)
		ref := fmt.Sprint("page", i)
		pauseAfter(tab, ref)
		tab.MustWrite(map[string]any{"op": "join", "ref": ref, "topic": topic, "since": 0})
		if r := tab.Await("the page's reply", func(f livetest.Frame) bool { return f.Op == "reply" && f.Ref == ref }); r.Map()["more"] != true {
			t.Fatalf("tab %d: %s", i, r.Raw)
		}
		stalled = append(stalled, tab)
	}
	refused := func(cl *livetest.Client, what string) {
		t.Helper()
		r := cl.Call(map[string]any{"op": "join", "topic": topic, "since": 0})
		if r.Status != "error" || r.Map()["code"] != hub.CodeRateLimited || r.Map()["message"] != hub.ErrTooManyTabs.Message {
			t.Fatalf("%s: not refused as a tab too many: %.300s", what, r.Raw)
		}
	}
	var extra []*livetest.Client
	for i := range 2 {
		cl := tn.Dial(t, agent)
		refused(cl, fmt.Sprint("join ", i+1, " past the bound"))
		extra = append(extra, cl)
	}

	// A tab that reads its page gives the place back: the whole page has
	// left the queue once its last event arrives. Its join for real
	// takes the place again.
	first := stalled[0]
	first.Resume()
	first.Await("the page's last event", func(f livetest.Frame) bool { return f.Op == "event" && f.Seq == page })
	first.Rejoin(topic, page, nil)
	refused(extra[0], "a join while a tab is joined and two hold pages")
	first.OK(map[string]any{"op": "leave", "topic": topic})
	if d := extra[0].OK(map[string]any{"op": "join", "topic": topic, "since": 0}); d["more"] != true {
		t.Fatalf("a join after a leave: %v", d)
	}

	// A customer who reads pages this large pages through as before: the
	// next join, sent on a page's reply while the rest of the page is
	// still being sent, waits for it.
	cust := tn.Dial(t, wsclient.Customer(link, ""))
	cust.Rejoin(topic, 0, nil)
	cust.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "live now"}})
	cust.Await("the live message", func(f livetest.Frame) bool { return f.Op == "event" && f.Map()["text"] == "live now" })
	evs := cust.All(func(f livetest.Frame) bool { return f.Op == "event" && f.Topic == topic })
	checkContiguous(t, evs)
	if len(evs) != fillCount(c, id) {
		t.Fatalf("%d events delivered, the log has %d", len(evs), fillCount(c, id))
	}
}

// pauseAfter makes the client stop reading once it has read the reply
// to ref (see Pause and Resume).
func pauseAfter(c *livetest.Client, ref string) { c.StallAfter(ref) }

// stallingNode serves tn's node with small socket send buffers, and
// dialWithSmallBuffer dials it with a small receive buffer: what a
// client does not read stays in the node's queue rather than in the
// kernel's buffers (which take megabytes on loopback).
func stallingNode(t testing.TB, tn *livetest.Node) *livetest.Node {
	srv := httptest.NewUnstartedServer(tn.Hub)
	srv.Config.ConnState = func(nc net.Conn, s http.ConnState) {
		if tc, ok := nc.(*net.TCPConn); ok && s == http.StateNew {
			_ = tc.SetWriteBuffer(32 << 10)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return &livetest.Node{Hub: tn.Hub, Server: srv}
}

// The stalling node serves only the hub: its tickets come from issuer.
func dialWithSmallBuffer(tn, issuer *livetest.Node, t *testing.T, cred wsclient.Credential) *livetest.Client {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(32 << 10)
		}
		return nc, err
	}}}
	c, _, err := tn.DialQueryWith(t, ticket(t, issuer, cred), nil, hc)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}
