package hub

import (
	"math/rand/v2"
	"time"
)

// Overload by lateness: for lateFor after work waited longer than
// LateAfter, the node refuses new sends, so the backlog drains and what
// is admitted stays prompt.
const lateFor = 250 * time.Millisecond

// waited notes how long a piece of work waited before it ran.
func (n *Node) waited(d time.Duration) {
	if d > n.cfg.LateAfter {
		n.lateTill.Store(time.Now().Add(lateFor).UnixNano())
	}
}

// admit takes an in-flight slot for a send or a completion; false when
// the node is at its bound or running late.
func (n *Node) admit() bool {
	if time.Now().UnixNano() < n.lateTill.Load() {
		n.metrics.Overloaded.Inc()
		return false
	}
	if n.inflight.Add(1) > int64(n.cfg.MaxInflight) {
		n.inflight.Add(-1)
		n.metrics.Overloaded.Inc()
		return false
	}
	return true
}

func (n *Node) done() { n.inflight.Add(-1) }

// overloaded is the refusal past the bound: try again after a short,
// spread-out pause (clients resend with the same id, so nothing doubles).
func (n *Node) overloaded() frameError {
	return frameError{Code: CodeOverloaded, Message: "the service is busy; try again in a moment",
		RetryAfterMS: 100 + rand.Int64N(200)}
}

// tooManyConns is the close reason of a connection past its
// credential's bound.
const tooManyConns = "too many open connections; close another tab or window first"

// errTooManyTabs refuses an agent's join past the room's bound.
var errTooManyTabs = frameError{Code: CodeRateLimited, Message: "this room is open in too many of your tabs; close one first"}

// claim takes a customer connection's slot: one customer session may hold
// only so many connections on this node, so one link cannot pin the
// node's memory.
func (n *Node) claim(c *conn) bool {
	if c.agentID != "" {
		return true
	}
	key := "c:" + c.claims.SessionID
	if !n.take(key, n.cfg.MaxConnsPerLink) {
		return false
	}
	c.slot = key
	return true
}

// releaseSlot gives a customer connection's slot back.
func (n *Node) releaseSlot(c *conn) {
	if c.slot != "" {
		n.give(c.slot)
	}
}

// agentRoomSlot is the slot of an agent's connection joined to a room.
func agentRoomSlot(agentID, roomID string) string { return "a:" + agentID + ":" + roomID }

// take counts one more under key, unless limit are there already.
func (n *Node) take(key string, limit int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.slots[key] >= limit {
		return false
	}
	n.slots[key]++
	return true
}

// giveSlot gives back a slot if there is one ("" is none).
func (n *Node) giveSlot(key string) {
	if key != "" {
		n.give(key)
	}
}

func (n *Node) give(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.slots[key]--; n.slots[key] <= 0 {
		delete(n.slots, key)
	}
}
