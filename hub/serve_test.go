package hub

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/cohub/cohub/rooms"
)

// What net/http read ahead of the upgrade is the first thing the small
// reader gives, then the connection's own bytes.
func TestSmallReaderKeepsReadAhead(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	big := bufio.NewReaderSize(io.MultiReader(strings.NewReader("ahead|"), server), 4096)
	if _, err := big.Peek(6); err != nil {
		t.Fatal(err)
	}
	small := smallReader(server, big)
	if small == big || small.Size() != readBuffer {
		t.Fatalf("kept net/http's reader (size %d)", small.Size())
	}
	go func() { _, _ = client.Write([]byte("after")) }()
	got := make([]byte, len("ahead|after"))
	if _, err := io.ReadFull(small, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "ahead|after" {
		t.Fatalf("read %q", got)
	}
}

// More read ahead than the small reader holds keeps net/http's reader.
func TestSmallReaderKeepsBigReadAhead(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	ahead := strings.Repeat("x", readBuffer+1)
	big := bufio.NewReaderSize(io.MultiReader(strings.NewReader(ahead), server), 4096)
	if _, err := big.Peek(len(ahead)); err != nil {
		t.Fatal(err)
	}
	if smallReader(server, big) != big {
		t.Fatal("replaced a reader holding more than fits")
	}
}

// Frames bigger than both buffers go through whole, both ways: a long
// message in, its event out, and a join reply carrying the history.
func TestFramesBiggerThanBuffers(t *testing.T) {
	c := newCluster(t, "memory", 2, fast())
	l := c.live(0, 1)
	text := strings.Repeat("long message ", rooms.MaxMessageChars/len("long message ")-1) + "end"
	if len(text) <= readBuffer+writeBuffer {
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
