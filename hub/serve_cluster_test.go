package hub_test

import (
	"strings"
	"testing"

	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/rooms"
)

// Frames bigger than both buffers go through whole, both ways: a long
// message in, its event out, and a join reply carrying the history.
func TestFramesBiggerThanBuffers(t *testing.T) {
	c := newCluster(t, "memory", 2, fast())
	l := c.live(0, 1)
	text := strings.Repeat("long message ", rooms.MaxMessageChars/len("long message ")-1) + "end"
	if len(text) <= hub.ReadBuffer+hub.WriteBuffer {
		t.Fatalf("text of %d bytes is no bigger than the buffers", len(text))
	}
	l.cust.ok(map[string]any{"op": "send", "topic": l.topic, "data": map[string]string{"text": text}})
	f := l.agent.await("the long message", isEvent(l.topic, rooms.EventMessage))
	if f.data()["text"] != text {
		t.Fatalf("agent got %d bytes of text", len(f.data()["text"].(string)))
	}
	again := c.agent(c.nodes[1], l.id)
	_ = again.ok(map[string]any{"op": "leave", "topic": l.topic})
	joined := again.ok(map[string]any{"op": "join", "topic": l.topic, "since": 0})
	if joined["seq"] == nil {
		t.Fatalf("join reply without seq: %v", joined)
	}
	replayed := again.await("the long message replayed", isEvent(l.topic, rooms.EventMessage))
	if replayed.data()["text"] != text {
		t.Fatal("the replayed message lost its text")
	}
}
