package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// Redis stops mid-conversation: what local clients send meanwhile is
// committed once it is back, and nobody receives anything twice.
func TestRedisRestartLosesNothing(t *testing.T) {
	c := newCluster(t, "redis", 2, livetest.Fast())
	l := c.Live(0, 1)
	topic, agent, cust := l.Topic, l.Agent, l.Cust
	agent.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "before"}})

	c.Redis.Stop()
	var wg sync.WaitGroup
	for i, cl := range []*livetest.Client{agent, cust, agent, cust} {
		ref := fmt.Sprintf("down%d", i)
		cl.MustWrite(map[string]any{"op": "send", "ref": ref, "topic": topic, "data": map[string]string{"text": ref}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, ok := cl.Within(livetest.WaitLimit*2, func(f livetest.Frame) bool { return f.Op == "reply" && f.Ref == ref })
			if !ok || r.Status != "ok" {
				t.Errorf("send %s while Redis was down: %s", ref, r.Raw)
			}
		}()
	}
	// The sends are held until Redis is back; start it again.
	c.Redis.Restart(t)
	wg.Wait()
	agent.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "after"}})

	for _, cl := range []*livetest.Client{agent, cust} {
		msgs := collect(t, cl, topic, rooms.EventMessage, 6)
		checkContiguous(t, msgs)
		seen := map[string]bool{}
		for _, f := range msgs {
			seen[f.Map()["text"].(string)] = true
		}
		for _, want := range []string{"before", "down0", "down1", "down2", "down3", "after"} {
			if !seen[want] {
				t.Fatalf("message %q lost; got %v", want, seen)
			}
		}
	}
}

// A reader that stops draining is closed with 4008 and resumes from its
// last seq without a loss.
func TestSlowConsumerResumes(t *testing.T) {
	cfg := livetest.Fast()
	cfg.PingEvery = time.Hour // the stalled reader must fall to its queue, not to a ping
	cfg.SendQueue, cfg.FrameRate, cfg.FrameBurst = 64, 10000, 10000
	c := newClusterWith(t, "memory", 1, cfg, func(sc *rooms.Config) { sc.MessageRate, sc.MessageBurst = 1e6, 1e6 })
	id, link := c.Session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	agent := c.Agent(c.Nodes[0], id)
	slow := c.Nodes[0].Dial(t, wsclient.Customer(link, ""))
	slow.OK(map[string]any{"op": "join", "topic": topic})
	joined := slow.All(func(f livetest.Frame) bool { return f.Op == "reply" })[0].Map()
	base := int64(joined["seq"].(float64))
	slow.Pause()

	// Socket buffers take megabytes before the queue fills: send the
	// biggest messages (4,000 four-byte runes) until the server gives up
	// on the stalled reader.
	text := strings.Repeat("😀", rooms.MaxMessageChars)
	sent := 0
	for ; sent < 9000; sent++ {
		agent.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": text}})
		if counter(c.Nodes[0].Metrics.SlowClosed) > 0 {
			break
		}
	}
	if counter(c.Nodes[0].Metrics.SlowClosed) == 0 {
		t.Fatalf("no slow-consumer close after %d messages; slow got %d frames, closed=%v", sent, len(slow.All(func(livetest.Frame) bool { return true })), slow.CloseStatus())
	}
	t.Logf("stalled reader closed after %d messages", sent)
	slow.Resume()
	if code := slow.AwaitClose(); code != hub.CloseSlow {
		t.Fatalf("closed with %d, want 4008", code)
	}
	got := slow.All(livetest.IsEvent(topic, rooms.EventMessage))
	last := base
	if len(got) > 0 {
		checkContiguous(t, got)
		last = got[len(got)-1].Seq
	}

	again := c.Nodes[0].Dial(t, wsclient.Customer(link, ""))
	r := again.Rejoin(topic, last, joined["epoch"])
	if r["recovered"] != true {
		t.Fatalf("resume not recovered: %v", r)
	}
	rest := collect(t, again, topic, rooms.EventMessage, sent+1-len(got))
	if rest[0].Seq != last+1 {
		t.Fatalf("resumed at %d after %d", rest[0].Seq, last)
	}
	checkContiguous(t, rest)
}

// Refusals: a foreign Origin, no credential, a forged link, an oversized
// frame (1009), invalid UTF-8 (1007), a bad since (bad_frame), a flood
// (rate_limited).
func TestRefusals(t *testing.T) {
	c := newCluster(t, "memory", 1, livetest.Fast())
	tn := c.Nodes[0]
	id, link := c.Session(rooms.CreateRequest{})

	_, resp, err := tn.TryDial(t, wsclient.Agent(c.Tokens["alex"]), http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v, resp %v", err, resp)
	}
	// No credential, a forged ticket, and credentials in the URL (even
	// good ones: URLs are logged) are refused before the upgrade.
	for _, q := range []string{"", "ticket=forged", "access_token=" + c.Tokens["alex"], "link=" + link,
		"link=" + link + "&customer_token=x", "ticket=x&access_token=" + c.Tokens["alex"]} {
		_, resp, err := tn.TryDialQuery(t, q, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("credential %q: err %v, resp %v", q, err, resp)
		}
	}
	for _, cred := range []wsclient.Credential{wsclient.Agent("nope"), wsclient.Customer(link+"x", "")} {
		if _, resp, err := tn.TryDial(t, cred, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a ticket for %+v: err %v, resp %v", cred, err, resp)
		}
	}

	// --ws-url-credentials lets clients not yet on tickets in, with
	// their credential checked as a ticket's would be.
	cfg := livetest.Fast()
	cfg.URLCredentials = true
	old := newCluster(t, "memory", 1, cfg)
	oldID, oldLink := old.Session(rooms.CreateRequest{})
	for _, q := range []string{"access_token=" + old.Tokens["alex"], "link=" + oldLink} {
		conn, _, err := old.Nodes[0].TryDialQuery(t, q, nil)
		if err != nil {
			t.Fatalf("with URL credentials on, %q: %v", q, err)
		}
		jctx, jcancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := conn.Join(jctx, "room:"+oldID, nil); err != nil {
			t.Fatalf("with URL credentials on, %q cannot join: %v", q, err)
		}
		jcancel()
	}
	if _, resp, err := old.Nodes[0].TryDialQuery(t, "link="+oldLink+"x", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged link in the URL with URL credentials on: err %v, resp %v", err, resp)
	}

	big := c.Agent(tn, id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = big.WriteRaw(ctx, []byte(`{"op":"ping","ref":"`+strings.Repeat("x", hub.ReadLimit)+`"}`))
	if code := big.AwaitClose(); code != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame closed with %d, want 1009", code)
	}

	// Text frames are UTF-8: anything else closes with 1007.
	garbled := c.Agent(tn, id)
	_ = garbled.WriteRaw(ctx, []byte("{\"op\":\"ping\",\"ref\":\"\xff\xfe\"}"))
	if code := garbled.AwaitClose(); code != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("invalid UTF-8 closed with %d, want 1007", code)
	}

	// since is a seq: a whole number, 0 or more.
	strict := tn.Dial(t, wsclient.Agent(c.Tokens["alex"]))
	for _, since := range []any{-1, 1.5, "3", true} {
		r := strict.Call(map[string]any{"op": "join", "topic": bus.RoomTopic(id), "since": since})
		if r.Status != "error" || r.Map()["code"] != hub.CodeBadFrame {
			t.Fatalf("join with since %v: %s", since, r.Raw)
		}
	}
	// A frame's own fields in another case are refused by name, not
	// taken for the field (encoding/json would fill topic from TOPIC).
	if r := strict.Call(map[string]any{"op": "join", "TOPIC": bus.RoomTopic(id)}); r.Status != "error" ||
		r.Map()["code"] != "validation_failed" || !strings.Contains(r.Raw, `"TOPIC"`) {
		t.Fatalf("join with TOPIC: %s", r.Raw)
	}
	strict.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id), "since": 0})

	flood := tn.Dial(t, wsclient.Agent(c.Tokens["alex"]))
	for i := range 60 {
		flood.MustWrite(map[string]any{"op": "ping", "ref": fmt.Sprint(i)})
	}
	flood.Await("rate_limited", func(f livetest.Frame) bool {
		return f.Op == "reply" && f.Status == "error" && f.Map()["code"] == hub.CodeRateLimited
	})
	// Keeping on at over twice the rate for the window: closed with 4029.
	for i := range 2 * 20 * 10 {
		b, _ := json.Marshal(map[string]any{"op": "ping", "ref": fmt.Sprint("more", i)})
		if flood.WriteRaw(ctx, b) != nil {
			break
		}
	}
	if code := flood.AwaitClose(); code != hub.CloseRateLimited {
		t.Fatalf("flood closed with %d, want 4029", code)
	}
}

// Joins are authorized: another agent's session is not found or
// forbidden, a customer only enters their own room.
func TestJoinAuthorization(t *testing.T) {
	c := newCluster(t, "memory", 1, livetest.Fast())
	tn := c.Nodes[0]
	id, link := c.Session(rooms.CreateRequest{})
	other, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Email: "dana@example.com"}})

	blake := tn.Dial(t, wsclient.Agent(c.Tokens["blake"]))
	r := blake.Call(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	if r.Status != "error" || (r.Map()["code"] != "forbidden" && r.Map()["code"] != "not_found") {
		t.Fatalf("blake joined alex's room: %s", r.Raw)
	}
	cust := tn.Dial(t, wsclient.Customer(link, ""))
	r = cust.Call(map[string]any{"op": "join", "topic": bus.RoomTopic(other)})
	if r.Status != "error" || r.Map()["code"] != "forbidden" {
		t.Fatalf("customer joined another room: %s", r.Raw)
	}
	r = cust.Call(map[string]any{"op": "join", "topic": hub.Inbox})
	if r.Status != "error" || r.Map()["code"] != "forbidden" {
		t.Fatalf("customer joined an inbox: %s", r.Raw)
	}
	r = cust.Call(map[string]any{"op": "send", "topic": bus.RoomTopic(id), "data": map[string]string{"text": "hi"}})
	if r.Status != "error" || r.Map()["code"] != hub.CodeNotJoined {
		t.Fatalf("send before join: %s", r.Raw)
	}
	r = cust.Call(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	if r.Status != "ok" {
		t.Fatalf("own room: %s", r.Raw)
	}
}

// A committed event whose publish is lost (and nothing follows it to
// reveal the gap) still reaches the room: nodes re-read every live room's
// last seq each second and fill from the log.
func TestLostPublishIsFilled(t *testing.T) {
	c := newCluster(t, "memory", 1, livetest.Fast())
	id, _ := c.Session(rooms.CreateRequest{})
	agent := c.Agent(c.Nodes[0], id)
	c.Mem.LosePublishes(true)
	if _, err := c.Service().Sessions.PostMessage(context.Background(), id, rooms.Message{From: rooms.Actor{Role: "agent", ID: c.Alex.ID}, Text: "lost in transit", AgentsHere: true}); err != nil {
		t.Fatal(err)
	}
	c.Mem.LosePublishes(false)
	f := agent.Await("the lost message", livetest.IsEvent(bus.RoomTopic(id), rooms.EventMessage))
	if f.Map()["text"] != "lost in transit" {
		t.Fatalf("got %s", f.Raw)
	}
	if n := counter(c.Nodes[0].Metrics.GapsFilled); n != 1 {
		t.Fatalf("gaps filled = %v, want 1", n)
	}
}

// A customer's leave whose presence hints are lost still reaches the
// agent: the backstop re-reads rooms showing a customer online, both
// where the customer was on another node and where it was on the
// agent's own node (no longer connected there).
func TestLostLeaveHintBackstop(t *testing.T) {
	for _, nodes := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d nodes", nodes), func(t *testing.T) {
			c := newCluster(t, "memory", nodes, livetest.Fast())
			l := c.Live(0, nodes-1)
			c.DropHints.Store(true)
			_ = l.Cust.CloseWith(websocket.StatusNormalClosure, "gone")
			l.Agent.Await("offline without a hint", livetest.IsStatus(l.Topic, livetest.Online(false)))
		})
	}
}

// The backstop reads the rooms showing a customer online in turns, each
// once per presence TTL: no tick reads them all at once.
func TestBackstopTakesTurns(t *testing.T) {
	c := newCluster(t, "memory", 2, livetest.Fast())
	const live = 8
	for range live {
		c.Live(0, 1)
	}
	batches := c.Nodes[0].Metrics.BackstopRooms
	waitUntil(t, "the backstop to read every room", 10*time.Second, func() bool {
		return histogram(batches).GetSampleSum() >= live
	})
	h := histogram(batches)
	if b := h.GetBucket()[1]; b.GetUpperBound() != 2 || b.GetCumulativeCount() != h.GetSampleCount() {
		t.Fatalf("%d of %d backstop ticks read more than 2 of the %d rooms",
			h.GetSampleCount()-b.GetCumulativeCount(), h.GetSampleCount(), live)
	}
}

// A reader that stops draining while its queue still has room leaves the
// node's write to it blocked on full socket buffers. That write has no
// deadline of its own: the ping stuck behind it must still drop the
// connection within PingEvery + PongWait (and a tick).
func TestStalledWriteIsDropped(t *testing.T) {
	cfg := livetest.Fast()
	cfg.SendQueue, cfg.FrameRate, cfg.FrameBurst = 1<<14, 10000, 10000
	c := newClusterWith(t, "memory", 1, cfg, livetest.Unlimited)
	id, link := c.Session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	agent := c.Agent(c.Nodes[0], id)
	slow := c.Nodes[0].Dial(t, wsclient.Customer(link, ""))
	slow.OK(map[string]any{"op": "join", "topic": topic})
	customers := c.Nodes[0].Metrics.Connections.WithLabelValues(presence.RoleCustomer)
	if n := gauge(customers); n != 1 {
		t.Fatalf("%v customer connections open, want 1", n)
	}
	slow.Pause()

	// 1,500 messages of 16 KB: far past what loopback's socket buffers
	// hold, far short of the queue's bound.
	text := strings.Repeat("😀", rooms.MaxMessageChars)
	for range 1500 {
		agent.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": text}})
	}
	stalled := time.Now()
	// Polling a server gauge: the stalled client reads nothing.
	waitUntil(t, "the stalled reader's connection to be dropped", livetest.WaitLimit, func() bool { return gauge(customers) == 0 })
	if n := counter(c.Nodes[0].Metrics.SlowClosed); n > 0 {
		t.Fatalf("closed as a slow consumer (%v): the queue filled, no write stalled", n)
	}
	if took, limit := time.Since(stalled), cfg.PingEvery+cfg.PongWait+2*cfg.Tick; took > limit+3*time.Second {
		t.Fatalf("dropped %s after the last send; the limit is %s", took, limit)
	}
}

// gauge reads a Prometheus gauge.
func gauge(g prometheus.Gauge) float64 {
	var d dto.Metric
	_ = g.Write(&d)
	return d.GetGauge().GetValue()
}

// counter reads a Prometheus counter.
func counter(c prometheus.Counter) float64 {
	var d dto.Metric
	_ = c.Write(&d)
	return d.GetCounter().GetValue()
}

// histogram reads a Prometheus histogram.
func histogram(h prometheus.Histogram) *dto.Histogram {
	var d dto.Metric
	_ = h.Write(&d)
	return d.GetHistogram()
}
