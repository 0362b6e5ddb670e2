package hub

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// busHead is enough of a bus message to route it.
type busHead struct {
	Seq     int64  `json:"seq"`
	Type    string `json:"type"`
	Op      string `json:"op"`
	Role    string `json:"role"`
	Conn    string `json:"conn"`
	AfterMS int64  `json:"after_ms"`
	// a read receipt (never "seq": that key marks a logged event)
	By      string `json:"by"`
	AgentID string `json:"agent_id"`
	Horizon int64  `json:"horizon"`
}

// eventHead reads the seq and type of a logged event from the head the
// commit scripts give it (`{"seq":N,"type":"…",`) without decoding the
// rest: a room routes every message, and a chat text need not be parsed
// for that. Anything else (ephemeral frames) is decoded in full.
func eventHead(b []byte) (busHead, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"seq":`))
	if !ok {
		return busHead{}, false
	}
	i := bytes.IndexByte(rest, ',')
	if i <= 0 {
		return busHead{}, false
	}
	seq, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	if err != nil || seq <= 0 {
		return busHead{}, false
	}
	typ, ok := bytes.CutPrefix(rest[i+1:], []byte(`"type":"`))
	if !ok {
		return busHead{}, false
	}
	j := bytes.IndexByte(typ, '"')
	if j < 0 || bytes.IndexByte(typ[:j], '\\') >= 0 {
		return busHead{}, false // an escaped type is read in full
	}
	return busHead{Seq: seq, Type: string(typ[:j])}, true
}

// readHead reads what routes a bus message: the head of a logged event
// when it has one, else the whole message.
func readHead(payload []byte) (busHead, bool) {
	if h, ok := eventHead(payload); ok {
		return h, true
	}
	var h busHead
	return h, json.Unmarshal(payload, &h) == nil
}

func (r *room) onBus(payload []byte) {
	h, ok := readHead(payload)
	if !ok {
		return
	}
	switch {
	case h.Seq > 0:
		if h.Seq > r.lastSeq && len(r.pending) < maxPending {
			r.pending[h.Seq] = pendingEvent{payload: payload, typ: h.Type}
		}
		if r.ready {
			r.flush()
		}
	case h.Op == "presence":
		r.readPresence(time.Duration(h.AfterMS) * time.Millisecond)
	case h.Op == "typing":
		r.typing(h)
	case h.Op == "read":
		r.readReceipt(h)
	}
}

// eventFrame is an event's frame, made in one allocation of its size:
// every event of a room passes here once per node.
func eventFrame(topic string, seq int64, payload []byte) []byte {
	b := make([]byte, 0, len(`{"op":"event","topic":"","seq":,"data":}`)+len(topic)+20+len(payload))
	b = append(b, `{"op":"event","topic":`...)
	b = rooms.AppendJSONString(b, topic)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"data":`...)
	b = append(b, payload...)
	return append(b, '}')
}

// deliver sends one event to every local subscriber that has not had it,
// and reacts to events that change the session.
func (r *room) deliver(seq int64, e pendingEvent) {
	frame := eventFrame(r.topic, seq, e.payload)
	r.remember(seq, frame)
	for c, at := range r.subs {
		if at < seq {
			c.sendEvent(r, seq, frame)
			r.subs[c] = seq
		}
	}
	if e.typ == rooms.EventMessage {
		return
	}
	if e.typ == rooms.EventReengaged {
		r.closeCustomers(CloseCredential, "link revoked")
	}
	r.load()
}

// typing forwards an ephemeral typing frame: a customer's to agents, an
// agent's to everyone else.
func (r *room) typing(h busHead) {
	frame := encode(outFrame{Op: "typing", Topic: r.topic, Data: map[string]string{"role": h.Role}})
	for c := range r.subs {
		if c.id == h.Conn || (h.Role == presence.RoleCustomer && c.role == presence.RoleCustomer) {
			continue
		}
		c.send(frame)
	}
}
