package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

var sendFrame = []byte(`{"op":"send","ref":"42","topic":"room:s_01J9Z8Q6V0K3M5N7P9R1T3V5X7","id":"c-7f3a9b",` +
	`"data":{"text":"a hundred bytes of chat, give or take: the size the side-by-side bench sends in each message."}}`)

// BenchmarkFrameDecode is what a node does with each client frame before
// its op: the frame, then a send's data.
func BenchmarkFrameDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var f inFrame
		var d sendData
		if json.Unmarshal(sendFrame, &f) != nil || json.Unmarshal(f.Data, &d) != nil || d.Text == "" {
			b.Fatal("decode")
		}
	}
}

// BenchmarkFrameEncode is what a node writes for each message: the
// sender's reply and every subscriber's event frame (the event's JSON
// comes from the bus as it is).
func BenchmarkFrameEncode(b *testing.B) {
	payload := []byte(`{"seq":43,"type":"message","at":"2026-12-01T10:00:00.123456789Z","from":{"role":"customer","name":"Dana"},"text":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		reply := encode(outFrame{Op: "reply", Ref: "42", Status: "ok", Data: map[string]any{"seq": 43}})
		ev := eventFrame("room:s_01J9Z8Q6V0K3M5N7P9R1T3V5X7", 43, payload)
		if len(reply) == 0 || len(ev) == 0 {
			b.Fatal("encode")
		}
	}
}

// BenchmarkEventHead is how a room routes a bus message.
func BenchmarkEventHead(b *testing.B) {
	payload := []byte(`{"seq":43,"type":"message","at":"2026-12-01T10:00:00.123456789Z","from":{"role":"customer","name":"Dana"},"text":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		if h, ok := eventHead(payload); !ok || h.Seq != 43 {
			b.Fatal("head")
		}
	}
}

// BenchmarkRoomFanout is one message from commit to every subscriber's
// socket on one node (memory backend, real WebSockets on loopback): the
// room's fan-out to 2, 10 and 100 subscribers.
func BenchmarkRoomFanout(b *testing.B) {
	for _, subs := range []int{2, 10, 100} {
		b.Run(fmt.Sprint(subs), func(b *testing.B) {
			cfg := fast()
			cfg.MaxAgentConnsPerRoom = subs
			c := newClusterWith(b, "memory", 1, cfg, func(sc *rooms.Config) { sc.MessageRate, sc.MessageBurst = 1e9, 1<<30 })
			id, _ := c.session(rooms.CreateRequest{})
			got := make(chan struct{}, subs)
			for range subs {
				c.benchSubscriber(b, id, got)
			}
			msg := rooms.Message{From: rooms.Actor{Role: "agent", ID: c.alex.ID}, Text: "hello", AgentsHere: true}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.svc().Sessions.PostMessage(ctx, id, msg); err != nil {
					b.Fatal(err)
				}
				for range subs {
					<-got
				}
			}
		})
	}
}

// benchSubscriber joins the room as alex and signals each message event.
func (c *cluster) benchSubscriber(b *testing.B, id string, got chan<- struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, c.nodes[0].srv.URL, wsclient.AgentQuery(c.tokens["alex"]), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.CloseNow() })
	if _, err := conn.Join(ctx, roomTopic(id), nil); err != nil {
		b.Fatalf("join: %v", err)
	}
	go func() {
		for f := range conn.Events() {
			if f.Op == "event" && strings.Contains(f.Raw, `"type":"message"`) {
				got <- struct{}{}
			}
		}
	}()
}
