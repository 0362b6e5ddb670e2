package hub

import "time"

// A send's reply and the sender's own copy of its event leave in one
// write: the connection holds its writes from the moment it sends a
// message until both are queued (its node then makes one write system
// call per send, not two). Either may come first: Redis answers the
// commit and publishes the event at once, and they reach the node on
// different connections.

// held is a connection's hold on its writes while one of its sends is
// in flight.
type held struct {
	r     *room
	seq   int64 // the send's seq, once logged (0 until then)
	event int64 // the highest seq of r queued to this connection meanwhile
	timer *time.Timer
}

// holdFor bounds a hold: an event lost on the bus comes from the log
// within a second or so, and what was queued meanwhile is sent anyway.
const holdFor = 250 * time.Millisecond

// holdWrites starts holding this connection's writes for a send to r;
// only the op runner calls it, one send at a time.
func (c *conn) holdWrites(r *room) *held {
	h := &held{r: r}
	h.timer = time.AfterFunc(holdFor, func() { c.unhold(h) })
	c.mu.Lock()
	c.hold = h
	c.mu.Unlock()
	return h
}

// sendEvent queues an event of r (seq) for this connection; it ends a
// hold waiting for it.
func (c *conn) sendEvent(r *room, seq int64, frame []byte) {
	c.mu.Lock()
	if h := c.hold; h != nil && h.r == r {
		h.event = max(h.event, seq)
		if h.seq != 0 && h.event >= h.seq {
			c.release(h)
		}
	}
	c.queueFrame(frame)
}

// replyLogged queues a send's reply: the hold ends once the event
// logged as seq is queued too (now, if it came first, or if the send
// repeated one logged before).
func (c *conn) replyLogged(seq int64, frame []byte) {
	c.mu.Lock()
	if h := c.hold; h != nil {
		h.seq = seq
		if h.event >= seq || h.r.delivered.Load() >= seq {
			c.release(h)
		}
	}
	c.queueFrame(frame)
}

// unhold ends hold h, if it still holds, and sends what waited.
func (c *conn) unhold(h *held) {
	c.mu.Lock()
	if c.hold != h {
		c.mu.Unlock()
		return
	}
	c.release(h)
	if c.closed || len(c.queue) == 0 || c.writing {
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	go c.writeLoop()
}

// release ends hold h (c.mu held): the next frame queued starts a writer.
func (c *conn) release(h *held) {
	c.hold = nil
	h.timer.Stop()
}
