package hub

import "time"

// What the external tests (package hub_test) need of the node's insides.

// Kill stops the node as a crash would: no goodbyes.
func Kill(n *Node) { n.kill() }

// Bounds the tests reach for.
const (
	ReadLimit   = readLimit
	ReadBuffer  = readBuffer
	WriteBuffer = writeBuffer
)

// ErrTooManyTabs is the reply to a join past the per-credential bound.
var ErrTooManyTabs = errTooManyTabs

// Settings is the node's configuration with its defaults filled in.
func Settings(n *Node) Config { return n.cfg }

// InFlight is how many sends and completions wait on the backend.
func InFlight(n *Node) int64 { return n.inflight.Load() }

// Waited, Admit and Done drive the node's admission as its work would.
func Waited(n *Node, d time.Duration) { n.waited(d) }
func Admit(n *Node) bool              { return n.admit() }
func Done(n *Node)                    { n.done() }

// PingTimes are the open connections' next and last pings (unix ns).
func PingTimes(n *Node) (next, sent []int64) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for c := range n.conns {
		next, sent = append(next, c.nextPing.Load()), append(sent, c.pingAt.Load())
	}
	return next, sent
}

// PingAllNow makes every open connection due for a ping.
func PingAllNow(n *Node) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for c := range n.conns {
		c.nextPing.Store(0)
		n.pings.file(c, 0)
	}
}
