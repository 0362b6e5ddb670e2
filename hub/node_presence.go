package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/cohub/cohub/presence"
)

func entryKey(connID, roomID string) string { return connID + "|" + roomID }

// presenceJoin tracks a connection in a room at once and tells the other
// nodes, so agents elsewhere see a customer online within the second.
func (n *Node) presenceJoin(c *conn, roomID string) {
	e := c.entry(roomID)
	now := time.Now()
	n.mu.Lock()
	n.entries[entryKey(c.id, roomID)] = &heldEntry{conn: e, at: now}
	n.mu.Unlock()
	n.presMu.Lock()
	err := n.pres.Refresh(n.ctx, n.id, []presence.Conn{e}, now.Add(n.entryLife()))
	n.presMu.Unlock()
	n.notePresence(err, "presence join")
	n.hint(roomID, 0)
}

// presenceLeave starts an entry's leave grace.
func (n *Node) presenceLeave(c *conn, roomID string) {
	key := entryKey(c.id, roomID)
	if n.killed.Load() {
		return
	}
	n.mu.Lock()
	e, ok := n.entries[key]
	delete(n.entries, key)
	n.mu.Unlock()
	if !ok {
		return
	}
	n.presMu.Lock()
	err := n.pres.Leave(n.ctx, []presence.Conn{e.conn}, time.Now().Add(n.cfg.LeaveGrace))
	n.presMu.Unlock()
	n.notePresence(err, "presence leave")
	// Every node's room reads again when the grace has run out.
	n.hint(roomID, n.cfg.LeaveGrace)
}

// hint asks every node's room to re-read presence now and, with after,
// once more when that much time has passed.
func (n *Node) hint(roomID string, after time.Duration) {
	msg := []byte(`{"op":"presence"}`)
	if after > 0 {
		msg = fmt.Appendf(nil, `{"op":"presence","after_ms":%d}`, after.Milliseconds())
	}
	n.noteErr(n.bus.Publish(n.ctx, roomTopic(roomID), msg), "presence hint")
}

// heldEntry is a presence entry of this node and when it was last written.
type heldEntry struct {
	conn presence.Conn
	at   time.Time
}

// entryLife is how long an entry lives without being written again. An
// open connection's entry is kept present by its node's liveness (Alive
// every TTL/3, reaped once it runs out), so entries need only a long
// life of their own: they are written again a few at a time, not all of
// them every TTL/3.
func (n *Node) entryLife() time.Duration { return 60 * n.cfg.PresenceTTL }

// maxRewrite bounds the entries written again in one tick, so a crowd
// that connected at once is spread over the following ticks.
const maxRewrite = 1000

// refresh renews the node's liveness and writes again the entries due
// (all of them with all set: after a resubscribe, Redis may have lost
// them), in one batch.
func (n *Node) refresh(ctx context.Context, all bool) {
	start := time.Now()
	n.presMu.Lock()
	defer n.presMu.Unlock()
	n.notePresence(n.pres.Alive(ctx, n.id, start.Add(n.cfg.PresenceTTL)), "presence liveness")
	due := n.dueEntries(start, all)
	if len(due) > 0 {
		n.notePresence(n.pres.Refresh(ctx, n.id, due, start.Add(n.entryLife())), "presence refresh")
	}
	n.metrics.PresenceTook.Observe(time.Since(start).Seconds())
}

// dueEntries lists the entries to write again and marks them written.
func (n *Node) dueEntries(now time.Time, all bool) []presence.Conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	var due []presence.Conn
	for _, e := range n.entries {
		if all || (now.Sub(e.at) >= n.entryLife()/3 && len(due) < maxRewrite) {
			e.at = now
			due = append(due, e.conn)
		}
	}
	return due
}

// reap claims nodes whose liveness ran out and removes their presence
// entries; the rooms that lost one hear it on the bus, on every node.
// Only a node that has reached Redis for a whole TTL judges others: after
// an outage they were cut off as it was, and get a TTL to renew.
func (n *Node) reap(ctx context.Context, now time.Time) {
	if n.troubledSince(now.Add(-n.cfg.PresenceTTL)) {
		return
	}
	changed, err := n.pres.Reap(ctx, now)
	n.notePresence(err, "presence reap")
	for _, id := range changed { // what was reaped before a failure, too
		n.hint(id, 0)
	}
}

// notePresence notes a presence call's error and when it happened.
func (n *Node) notePresence(err error, what string) {
	if err != nil {
		n.troubled.Store(time.Now().UnixNano())
	}
	n.noteErr(err, what)
}

// troubledSince reports whether a presence call failed after t.
func (n *Node) troubledSince(t time.Time) bool { return n.troubled.Load() > t.UnixNano() }
