package hub

import (
	"sync"
	"time"
)

// pingWheel files each open connection under the tick its next look is
// due on (its ping, or its pong's deadline), so a tick looks only at the
// connections due then. Scanning every open connection on every tick
// was a twentieth of an idle node's CPU (docs/BENCHMARKS.md).
type pingWheel struct {
	tick  int64 // ns
	mu    sync.Mutex
	slots map[int64][]*conn // tick number -> the connections filed there
	next  int64             // the first tick number not taken yet
}

func newPingWheel(tick time.Duration, now time.Time) *pingWheel {
	w := &pingWheel{tick: int64(tick), slots: map[int64][]*conn{}}
	w.next = now.UnixNano() / w.tick
	return w
}

// Where a connection is: filed under a tick (> 0), taken by the ticker
// (notFiled), or gone for good (dropped).
const (
	notFiled = 0
	dropped  = -1
)

// file puts c under the first tick at or after at (unix ns). A
// connection is filed once: filing again moves it, and its old entry is
// skipped when its tick comes.
func (w *pingWheel) file(c *conn, at int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.wheelSlot == dropped {
		return
	}
	s := max((at+w.tick-1)/w.tick, w.next)
	c.wheelSlot = s
	w.slots[s] = append(w.slots[s], c)
}

// drop takes a closed connection off the wheel for good.
func (w *pingWheel) drop(c *conn) {
	w.mu.Lock()
	c.wheelSlot = dropped
	w.mu.Unlock()
}

// take returns the connections filed up to now (unix ns), off the wheel
// until filed again.
func (w *pingWheel) take(now int64) []*conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*conn
	for ; w.next <= now/w.tick; w.next++ {
		for _, c := range w.slots[w.next] {
			if c.wheelSlot == w.next {
				c.wheelSlot = notFiled
				out = append(out, c)
			}
		}
		delete(w.slots, w.next)
	}
	return out
}
