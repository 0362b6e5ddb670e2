package hub_test

import (
	"strings"
	"testing"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/rooms"
)

// Frames bigger than both buffers go through whole, both ways: a long
// message in, its event out, and a join reply carrying the history.
func TestFramesBiggerThanBuffers(t *testing.T) {
	c := newCluster(t, "memory", 2, livetest.Fast())
	l := c.Live(0, 1)
	text := strings.Repeat("long message ", rooms.MaxMessageChars/len("long message ")-1) + "end"
	if len(text) <= hub.ReadBuffer+hub.WriteBuffer {
		t.Fatalf("text of %d bytes is no bigger than the buffers", len(text))
	}
	l.Cust.OK(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": text}})
	f := l.Agent.Await("the long message", livetest.IsEvent(l.Topic, rooms.EventMessage))
	if f.Map()["text"] != text {
		t.Fatalf("agent got %d bytes of text", len(f.Map()["text"].(string)))
	}
	again := c.Agent(c.Nodes[1], l.ID)
	_ = again.OK(map[string]any{"op": "leave", "topic": l.Topic})
	joined := again.OK(map[string]any{"op": "join", "topic": l.Topic, "since": 0})
	if joined["seq"] == nil {
		t.Fatalf("join reply without seq: %v", joined)
	}
	replayed := again.Await("the long message replayed", livetest.IsEvent(l.Topic, rooms.EventMessage))
	if replayed.Map()["text"] != text {
		t.Fatal("the replayed message lost its text")
	}
}
