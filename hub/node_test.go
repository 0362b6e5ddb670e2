package hub

import (
	"testing"
	"time"
)

// While Redis is away the node's loops fail every tick: one line per
// kind every ten seconds, with the count held back.
func TestLogLimiter(t *testing.T) {
	var l logLimiter
	t0 := time.Now()
	if _, ok := l.allow("presence read", t0); !ok {
		t.Fatal("the first line is held")
	}
	for i := 1; i < 10; i++ {
		if _, ok := l.allow("presence read", t0.Add(time.Duration(i)*time.Second)); ok {
			t.Fatalf("a line %d s after the first went through", i)
		}
	}
	if _, ok := l.allow("bus subscribe", t0.Add(time.Second)); !ok {
		t.Fatal("another kind is held")
	}
	held, ok := l.allow("presence read", t0.Add(logEvery))
	if !ok || held != 9 {
		t.Fatalf("after the window: ok %v, held %d, want 9", ok, held)
	}
}
