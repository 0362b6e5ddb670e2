package hub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/rooms"
)

// Agent on node 1, customer on node 2: the agent sees the customer come
// online, and messages both ways arrive once each, in order, with
// contiguous seq, on both sides.
func TestCrossNodeRoom(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			cfg := livetest.Fast()
			// No presence tick before the test ends: online must come from
			// the join's push, not from polling.
			cfg.Tick = time.Minute
			c := newCluster(t, backend, 2, cfg)
			id, link := c.Session(rooms.CreateRequest{})
			topic := bus.RoomTopic(id)
			agent := c.Agent(c.Nodes[0], id)

			cust := c.Customer(c.Nodes[1], id, link)
			st := agent.Await("status online", livetest.IsStatus(topic, livetest.Online(true)))
			if st.Map()["state"] != rooms.OnlineIncomplete {
				t.Fatalf("status %s, want online_incomplete", st.Raw)
			}
			agent.Await("presence with customer", func(f livetest.Frame) bool {
				return f.Op == "presence" && f.Map()["customer_online"] == true
			})

			const n = 10
			for i := range n {
				agent.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": fmt.Sprintf("agent %d", i)}})
				cust.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": fmt.Sprintf("customer %d", i)}})
			}
			for _, cl := range []*livetest.Client{agent, cust} {
				msgs := collect(t, cl, topic, rooms.EventMessage, 2*n)
				checkContiguous(t, msgs)
				for i, f := range msgs {
					who := []string{"agent", "customer"}[i%2]
					if want := fmt.Sprintf("%s %d", who, i/2); f.Map()["text"] != want {
						t.Fatalf("message %d is %q, want %q", i, f.Map()["text"], want)
					}
				}
			}
		})
	}
}

// collect awaits n events of a type and fails on any duplicate seq.
func collect(t *testing.T, cl *livetest.Client, topic, typ string, n int) []livetest.Frame {
	t.Helper()
	out := make([]livetest.Frame, 0, n)
	for range n {
		out = append(out, cl.Await(typ, livetest.IsEvent(topic, typ)))
	}
	if extra, ok := cl.Within(50*time.Millisecond, livetest.IsEvent(topic, typ)); ok {
		t.Fatalf("one more %s than sent: %s", typ, extra.Raw)
	}
	return out
}

// checkContiguous asserts strictly increasing seq with no gap.
func checkContiguous(t *testing.T, frames []livetest.Frame) {
	t.Helper()
	for i := 1; i < len(frames); i++ {
		if frames[i].Seq != frames[i-1].Seq+1 {
			t.Fatalf("seq %d follows %d", frames[i].Seq, frames[i-1].Seq)
		}
	}
}

var _ = context.Background
