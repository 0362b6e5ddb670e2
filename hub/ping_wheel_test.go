package hub

import (
	"slices"
	"testing"
	"time"
)

// The wheel gives each connection back on the first tick at or after the
// time it was filed for, never before, once, and never after a drop.
func TestPingWheel(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	w := newPingWheel(time.Second, start)
	at := func(d time.Duration) int64 { return start.Add(d).UnixNano() }
	a, b, c, d := &conn{id: "a"}, &conn{id: "b"}, &conn{id: "c"}, &conn{id: "d"}
	w.file(a, at(1500*time.Millisecond))
	w.file(b, at(2*time.Second))
	w.file(c, at(-time.Hour)) // already due: the next tick
	w.file(d, at(3*time.Second))
	w.file(d, at(5*time.Second)) // moved, not doubled
	ids := func(cs []*conn) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.id)
		}
		slices.Sort(out)
		return out
	}
	for _, step := range []struct {
		now  time.Duration
		want []string
	}{
		{0, []string{"c"}},
		{1999 * time.Millisecond, nil},
		{2 * time.Second, []string{"a", "b"}},
		{4 * time.Second, nil},
		{6 * time.Second, []string{"d"}},
		{9 * time.Second, nil},
	} {
		if got := ids(w.take(at(step.now))); !slices.Equal(got, step.want) {
			t.Fatalf("at +%s took %v, want %v", step.now, got, step.want)
		}
	}
	w.file(a, at(10*time.Second))
	w.drop(a)
	w.file(a, at(11*time.Second)) // a closed connection stays off
	if got := w.take(at(time.Minute)); len(got) != 0 {
		t.Fatalf("took %v after the drop", ids(got))
	}
	if len(w.slots) != 0 {
		t.Fatalf("%d ticks still filed after all were taken", len(w.slots))
	}
}
