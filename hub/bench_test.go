package hub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

// BenchmarkRoomFanout is one message from commit to every subscriber's
// socket on one node (memory backend, real WebSockets on loopback): the
// room's fan-out to 2, 10 and 100 subscribers.
func BenchmarkRoomFanout(b *testing.B) {
	for _, subs := range []int{2, 10, 100} {
		b.Run(fmt.Sprint(subs), func(b *testing.B) {
			cfg := livetest.Fast()
			cfg.MaxAgentConnsPerRoom = subs
			// Neither the rate limit nor the room's cap may stop a long run.
			c := newClusterWith(b, "memory", 1, cfg, func(sc *rooms.Config) {
				sc.MessageRate, sc.MessageBurst, sc.MaxRoomEvents = 1e9, 1<<30, 1<<40
			})
			id, _ := c.Session(rooms.CreateRequest{})
			got := make(chan struct{}, subs)
			for range subs {
				benchSubscriber(c, b, id, got)
			}
			msg := rooms.Message{From: rooms.Actor{Role: "agent", ID: c.Alex.ID}, Text: "hello", AgentsHere: true}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Service().Sessions.PostMessage(ctx, id, msg); err != nil {
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
func benchSubscriber(c *livetest.Cluster, b *testing.B, id string, got chan<- struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wsclient.Open(ctx, c.Nodes[0].Server.URL, wsclient.Agent(c.Tokens["alex"]), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.CloseNow() })
	if _, err := conn.Join(ctx, bus.RoomTopic(id), nil); err != nil {
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
