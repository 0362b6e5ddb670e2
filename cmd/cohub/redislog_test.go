package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fakeClock is a time the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// logLines decodes every line of a JSON log, failing on any that is not.
func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		out = append(out, m)
	}
	return out
}

const dialFailed = "redis: connection pool: failed to dial after %d attempts: %v"

// TestRedisLogOneLinePerWindow: a flood of one shape of line is one warn
// line per window, and the next says how many were dropped; another
// shape is not held back by the first.
func TestRedisLogOneLinePerWindow(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newRedisLog(zerolog.New(&buf), 10*time.Second, clock.now)
	ctx := context.Background()
	for range 28 {
		l.Printf(ctx, dialFailed, 5, "dial tcp 127.0.0.1:1: connect: connection refused")
		clock.t = clock.t.Add(300 * time.Millisecond)
	}
	l.Printf(ctx, "pubsub: reconnecting to new endpoint %s (was %s)", "b:1", "a:1")
	clock.t = clock.t.Add(2 * time.Second) // 10.4 s after the first line
	l.Printf(ctx, dialFailed, 5, "dial tcp 127.0.0.1:1: connect: connection refused")

	lines := logLines(t, &buf)
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %d:\n%s", len(lines), buf.String())
	}
	for _, m := range lines {
		if m["level"] != "warn" || m["component"] != "go-redis" {
			t.Errorf("line %v: want level warn, component go-redis", m)
		}
	}
	first, other, next := lines[0], lines[1], lines[2]
	if first["message"] != "connection pool: failed to dial after 5 attempts: dial tcp 127.0.0.1:1: connect: connection refused" ||
		first["suppressed"] != nil {
		t.Errorf("first line: %v", first)
	}
	if other["message"] != "pubsub: reconnecting to new endpoint b:1 (was a:1)" {
		t.Errorf("another shape: %v", other)
	}
	if next["suppressed"] != float64(27) {
		t.Errorf("the line after the window should count the 27 dropped: %v", next)
	}
}

// TestRedisLogQuiet: while start-up reports Redis itself, go-redis's
// lines are held and counted, and the first after the quiet spell says so.
func TestRedisLogQuiet(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newRedisLog(zerolog.New(&buf), 10*time.Second, clock.now)
	l.quietFor(10 * time.Second)
	for range 5 {
		l.Printf(context.Background(), dialFailed, 5, "refused")
	}
	if buf.Len() != 0 {
		t.Fatalf("written while quiet:\n%s", buf.String())
	}
	clock.t = clock.t.Add(10 * time.Second)
	l.Printf(context.Background(), dialFailed, 5, "refused")
	if lines := logLines(t, &buf); len(lines) != 1 || lines[0]["suppressed"] != float64(5) {
		t.Fatalf("after the quiet spell: %s", buf.String())
	}
	l.quietFor(time.Minute)
	l.quietFor(0)
	clock.t = clock.t.Add(10 * time.Second)
	l.Printf(context.Background(), dialFailed, 5, "refused")
	if lines := logLines(t, &buf); len(lines) != 2 {
		t.Fatalf("quietFor(0) did not end the quiet spell: %s", buf.String())
	}
}
