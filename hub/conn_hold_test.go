package hub_test

import (
	"fmt"
	"testing"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
)

// A send's reply and the sender's own copy of the event it logged leave
// in one write: one WebSocket message carries both, for the agent and
// for the customer, on one node and across two, while the other side
// gets the event too.
func TestSendReplyRidesWithItsEvent(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			nodes := 1
			if backend == "redis" {
				nodes = 2
			}
			c := newClusterWith(t, backend, nodes, talkConfig(), func(sc *rooms.Config) { sc.MessageRate, sc.MessageBurst = 1e6, 1e6 })
			l := c.Live(0, nodes-1)
			sides := []struct {
				name           string
				sender, reader *livetest.Client
			}{{"agent", l.Agent, l.Cust}, {"customer", l.Cust, l.Agent}}
			for _, s := range sides {
				for i := range 5 {
					reply := s.sender.Call(map[string]any{"op": "send", "topic": l.Topic,
						"data": map[string]string{"text": fmt.Sprint(s.name, " ", i)}})
					if reply.Status != "ok" {
						t.Fatalf("%s send %d: %s", s.name, i, reply.Raw)
					}
					seq := int64(reply.Map()["seq"].(float64))
					own := s.sender.Await(fmt.Sprint("own event ", seq), isEvent(l.Topic, seq))
					if own.Message != reply.Message {
						t.Errorf("%s send %d: reply in message %d, its event (seq %d) in message %d; want one message",
							s.name, i, reply.Message, seq, own.Message)
					}
					s.reader.Await(fmt.Sprint("event ", seq), isEvent(l.Topic, seq))
				}
			}
		})
	}
}

func isEvent(topic string, seq int64) func(livetest.Frame) bool {
	return func(f livetest.Frame) bool { return f.Op == "event" && f.Topic == topic && f.Seq == seq }
}
