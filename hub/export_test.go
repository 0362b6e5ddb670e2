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
