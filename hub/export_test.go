package hub

import (
	"time"

	"github.com/coder/websocket"
	"github.com/cohub/cohub/bus"
)

// What the external tests (package hub_test) need of the node's insides.

// WrapBus puts wrap around the node's bus (a bus that loses messages).
func WrapBus(n *Node, wrap func(bus.Bus) bus.Bus) { n.bus = wrap(n.bus) }

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

// CloseAll closes every connection of the node with code, as a restart
// or a network fault would.
func CloseAll(n *Node, code websocket.StatusCode, reason string) {
	for _, c := range n.snapshot() {
		c.close(code, reason)
	}
}

// InFlight is how many sends and completions wait on the backend.
func InFlight(n *Node) int64 { return n.inflight.Load() }

// Waited, Admit and Done drive the node's admission as its work would.
func Waited(n *Node, d time.Duration) { n.waited(d) }
func Admit(n *Node) bool              { return n.admit() }
func Done(n *Node)                    { n.done() }
