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

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/rooms"
)

// Redis stops mid-conversation: what local clients send meanwhile is
// committed once it is back, and nobody receives anything twice.
func TestRedisRestartLosesNothing(t *testing.T) {
	c := newCluster(t, "redis", 2, fast())
	l := c.live(0, 1)
	topic, agent, cust := l.topic, l.agent, l.cust
	agent.ok(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "before"}})

	c.redis.Stop()
	var wg sync.WaitGroup
	for i, cl := range []*client{agent, cust, agent, cust} {
		ref := fmt.Sprintf("down%d", i)
		cl.send(map[string]any{"op": "send", "ref": ref, "topic": topic, "data": map[string]string{"text": ref}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, ok := cl.within(waitLimit*2, func(f frame) bool { return f.Op == "reply" && f.Ref == ref })
			if !ok || r.Status != "ok" {
				t.Errorf("send %s while Redis was down: %s", ref, r.raw)
			}
		}()
	}
	// The sends are held until Redis is back; start it again.
	c.redis.Restart(t)
	wg.Wait()
	agent.ok(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "after"}})

	for _, cl := range []*client{agent, cust} {
		msgs := collect(t, cl, topic, rooms.EventMessage, 6)
		checkContiguous(t, msgs)
		seen := map[string]bool{}
		for _, f := range msgs {
			seen[f.data()["text"].(string)] = true
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
	cfg := fast()
	cfg.PingEvery = time.Hour // the stalled reader must fall to its queue, not to a ping
	cfg.SendQueue, cfg.FrameRate, cfg.FrameBurst = 64, 10000, 10000
	c := newClusterWith(t, "memory", 1, cfg, func(sc *rooms.Config) { sc.MessageRate, sc.MessageBurst = 1e6, 1e6 })
	id, link := c.session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	agent := c.agent(c.nodes[0], id)
	slow := c.nodes[0].dial(t, "link="+link)
	slow.ok(map[string]any{"op": "join", "topic": topic})
	joined := slow.all(func(f frame) bool { return f.Op == "reply" })[0].data()
	base := int64(joined["seq"].(float64))
	slow.pause()

	// Socket buffers take megabytes before the queue fills: send the
	// biggest messages (4,000 four-byte runes) until the server gives up
	// on the stalled reader.
	text := strings.Repeat("😀", rooms.MaxMessageChars)
	sent := 0
	for ; sent < 9000; sent++ {
		agent.ok(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": text}})
		if counter(c.nodes[0].metrics.SlowClosed) > 0 {
			break
		}
	}
	if counter(c.nodes[0].metrics.SlowClosed) == 0 {
		t.Fatalf("no slow-consumer close after %d messages; slow got %d frames, closed=%v", sent, len(slow.all(func(frame) bool { return true })), slow.CloseStatus())
	}
	t.Logf("stalled reader closed after %d messages", sent)
	slow.resume()
	if code := slow.closeStatus(); code != hub.CloseSlow {
		t.Fatalf("closed with %d, want 4008", code)
	}
	got := slow.all(isEvent(topic, rooms.EventMessage))
	last := base
	if len(got) > 0 {
		checkContiguous(t, got)
		last = got[len(got)-1].Seq
	}

	again := c.nodes[0].dial(t, "link="+link)
	r := again.rejoin(topic, last, joined["epoch"])
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
	c := newCluster(t, "memory", 1, fast())
	tn := c.nodes[0]
	id, link := c.session(rooms.CreateRequest{})

	_, resp, err := tn.tryDial(t, "access_token="+c.tokens["alex"], http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v, resp %v", err, resp)
	}
	for _, q := range []string{"", "access_token=nope", "link=" + link + "x"} {
		_, resp, err := tn.tryDial(t, q, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("credential %q: err %v, resp %v", q, err, resp)
		}
	}

	big := c.agent(tn, id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = big.WriteRaw(ctx, []byte(`{"op":"ping","ref":"`+strings.Repeat("x", hub.ReadLimit)+`"}`))
	if code := big.closeStatus(); code != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame closed with %d, want 1009", code)
	}

	// Text frames are UTF-8: anything else closes with 1007.
	garbled := c.agent(tn, id)
	_ = garbled.WriteRaw(ctx, []byte("{\"op\":\"ping\",\"ref\":\"\xff\xfe\"}"))
	if code := garbled.closeStatus(); code != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("invalid UTF-8 closed with %d, want 1007", code)
	}

	// since is a seq: a whole number, 0 or more.
	strict := tn.dial(t, "access_token="+c.tokens["alex"])
	for _, since := range []any{-1, 1.5, "3", true} {
		r := strict.call(map[string]any{"op": "join", "topic": bus.RoomTopic(id), "since": since})
		if r.Status != "error" || r.data()["code"] != hub.CodeBadFrame {
			t.Fatalf("join with since %v: %s", since, r.raw)
		}
	}
	// A frame's own fields in another case are refused by name, not
	// taken for the field (encoding/json would fill topic from TOPIC).
	if r := strict.call(map[string]any{"op": "join", "TOPIC": bus.RoomTopic(id)}); r.Status != "error" ||
		r.data()["code"] != "validation_failed" || !strings.Contains(r.raw, `"TOPIC"`) {
		t.Fatalf("join with TOPIC: %s", r.raw)
	}
	strict.ok(map[string]any{"op": "join", "topic": bus.RoomTopic(id), "since": 0})

	flood := tn.dial(t, "access_token="+c.tokens["alex"])
	for i := range 60 {
		flood.send(map[string]any{"op": "ping", "ref": fmt.Sprint(i)})
	}
	flood.await("rate_limited", func(f frame) bool {
		return f.Op == "reply" && f.Status == "error" && f.data()["code"] == hub.CodeRateLimited
	})
	// Keeping on at over twice the rate for the window: closed with 4029.
	for i := range 2 * 20 * 10 {
		b, _ := json.Marshal(map[string]any{"op": "ping", "ref": fmt.Sprint("more", i)})
		if flood.WriteRaw(ctx, b) != nil {
			break
		}
	}
	if code := flood.closeStatus(); code != hub.CloseRateLimited {
		t.Fatalf("flood closed with %d, want 4029", code)
	}
}

// Joins are authorized: another agent's session is not found or
// forbidden, a customer only enters their own room.
func TestJoinAuthorization(t *testing.T) {
	c := newCluster(t, "memory", 1, fast())
	tn := c.nodes[0]
	id, link := c.session(rooms.CreateRequest{})
	other, _ := c.session(rooms.CreateRequest{Customer: rooms.Customer{Email: "dana@example.com"}})

	blake := tn.dial(t, "access_token="+c.tokens["blake"])
	r := blake.call(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	if r.Status != "error" || (r.data()["code"] != "forbidden" && r.data()["code"] != "not_found") {
		t.Fatalf("blake joined alex's room: %s", r.raw)
	}
	cust := tn.dial(t, "link="+link)
	r = cust.call(map[string]any{"op": "join", "topic": bus.RoomTopic(other)})
	if r.Status != "error" || r.data()["code"] != "forbidden" {
		t.Fatalf("customer joined another room: %s", r.raw)
	}
	r = cust.call(map[string]any{"op": "join", "topic": hub.Inbox})
	if r.Status != "error" || r.data()["code"] != "forbidden" {
		t.Fatalf("customer joined an inbox: %s", r.raw)
	}
	r = cust.call(map[string]any{"op": "send", "topic": bus.RoomTopic(id), "data": map[string]string{"text": "hi"}})
	if r.Status != "error" || r.data()["code"] != hub.CodeNotJoined {
		t.Fatalf("send before join: %s", r.raw)
	}
	r = cust.call(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	if r.Status != "ok" {
		t.Fatalf("own room: %s", r.raw)
	}
}

// A committed event whose publish is lost (and nothing follows it to
// reveal the gap) still reaches the room: nodes re-read every live room's
// last seq each second and fill from the log.
func TestLostPublishIsFilled(t *testing.T) {
	c := newCluster(t, "memory", 1, fast())
	id, _ := c.session(rooms.CreateRequest{})
	agent := c.agent(c.nodes[0], id)
	c.mem.LosePublishes(true)
	if _, err := c.svc().Sessions.PostMessage(context.Background(), id, rooms.Message{From: rooms.Actor{Role: "agent", ID: c.alex.ID}, Text: "lost in transit", AgentsHere: true}); err != nil {
		t.Fatal(err)
	}
	c.mem.LosePublishes(false)
	f := agent.await("the lost message", isEvent(bus.RoomTopic(id), rooms.EventMessage))
	if f.data()["text"] != "lost in transit" {
		t.Fatalf("got %s", f.raw)
	}
	if n := counter(c.nodes[0].metrics.GapsFilled); n != 1 {
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
			c := newCluster(t, "memory", nodes, fast())
			l := c.live(0, nodes-1)
			c.dropHints.Store(true)
			_ = l.cust.CloseWith(websocket.StatusNormalClosure, "gone")
			l.agent.await("offline without a hint", isStatus(l.topic, online(false)))
		})
	}
}

// counter reads a Prometheus counter.
func counter(c prometheus.Counter) float64 {
	var d dto.Metric
	_ = c.Write(&d)
	return d.GetCounter().GetValue()
}
