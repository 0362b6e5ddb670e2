package hub

import (
	"context"
	"encoding/json"

	"github.com/cohub/cohub/presence"
)

// pendingRead is the highest seq a connection asked to mark read in a
// room, and the refs waiting for the answer.
type pendingRead struct {
	seq  int64
	refs []string
}

type readData struct {
	Seq *int64 `json:"seq"`
}

// readReceiptMsg is a raised horizon on the bus (the room's channel),
// so every node's room tells its subscribers.
type readReceiptMsg struct {
	Op      string `json:"op"`
	By      string `json:"by"`
	AgentID string `json:"agent_id,omitempty"`
	Horizon int64  `json:"horizon"`
}

// readEvent is the "read" frame's data.
type readEvent struct {
	By      string `json:"by"`
	AgentID string `json:"agent_id,omitempty"`
	Seq     int64  `json:"seq"`
}

// markRead notes how far this connection's reader has read a room.
// Reads fold: the frame only raises what is asked for the room, and one
// op queued behind the frames already waiting writes the highest, so a
// burst costs one write. The reader is the connection's own identity
// (the customer, or the agent by id), never one a frame names.
func (c *conn) markRead(f inFrame) {
	r := c.joinedRoom(f)
	if r == nil {
		return
	}
	var d readData
	if err := json.Unmarshal(f.Data, &d); err != nil || d.Seq == nil || *d.Seq < 1 {
		c.reply(f.Ref, frameError{Code: "validation_failed", Message: "data must be {\"seq\":…}",
			Fields: map[string]string{"data.seq": "must be a seq of the room: 1 or more"}})
		return
	}
	if c.reads == nil {
		c.reads = map[*room]*pendingRead{}
	}
	p := c.reads[r]
	if p == nil {
		p = &pendingRead{}
		if !c.later(func(ctx context.Context) { c.flushRead(ctx, r) }) {
			c.reply(f.Ref, frameError{Code: CodeRateLimited, Message: "too many frames waiting; slow down"})
			return
		}
		c.reads[r] = p
	}
	p.seq = max(p.seq, *d.Seq)
	if f.Ref != "" {
		p.refs = append(p.refs, f.Ref)
	}
}

// flushRead writes a room's folded read and, when the horizon rose,
// tells the room on every node.
func (c *conn) flushRead(ctx context.Context, r *room) {
	p := c.reads[r]
	delete(c.reads, r)
	if p == nil {
		return
	}
	by := c.actor()
	h, rose, err := c.node.sessions.MarkRead(ctx, r.id, by, p.seq)
	for _, ref := range p.refs {
		if err != nil {
			c.reply(ref, err)
		} else {
			c.ok(ref, map[string]any{"seq": h})
		}
	}
	if err != nil || !rose {
		return
	}
	msg, _ := json.Marshal(readReceiptMsg{Op: "read", By: by.Role, AgentID: by.ID, Horizon: h})
	c.node.noteErr(c.node.bus.Publish(ctx, r.topic, msg), "read publish")
}

// readReceipt hands a raised horizon to the room's subscribers: agents
// get every reader's, the customer only its own and its session's
// agent's (another agent watching marks nothing read for them), without
// agent ids.
func (r *room) readReceipt(h busHead) {
	if h.Horizon < 1 || (h.By != presence.RoleCustomer && h.By != presence.RoleAgent) {
		return
	}
	toAgents := encode(outFrame{Op: "read", Topic: r.topic, Data: readEvent{By: h.By, AgentID: h.AgentID, Seq: h.Horizon}})
	var toCustomer []byte
	if h.By == presence.RoleCustomer || (r.sess != nil && h.AgentID == r.sess.AgentID) {
		toCustomer = encode(outFrame{Op: "read", Topic: r.topic, Data: readEvent{By: h.By, Seq: h.Horizon}})
	}
	for c := range r.subs {
		switch {
		case c.role != presence.RoleCustomer:
			c.send(toAgents)
		case toCustomer != nil:
			c.send(toCustomer)
		}
	}
}
