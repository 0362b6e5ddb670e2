package hub

import (
	"errors"

	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// sentEvent is a delivered event's frame.
type sentEvent struct {
	seq   int64
	frame []byte
}

// recentKeep is how many delivered frames a room keeps for joiners.
const recentKeep = 64

// errStaleJoin: the joiner's read of the log is older than what the room
// still remembers; it reads again.
var errStaleJoin = errors.New("join read is stale")

func (r *room) remember(seq int64, frame []byte) {
	if len(r.recent) == recentKeep {
		copy(r.recent, r.recent[1:])
		r.recent = r.recent[:recentKeep-1]
	}
	r.recent = append(r.recent, sentEvent{seq: seq, frame: frame})
}

// sentAfter returns the frames delivered after seq, or false when the
// room no longer remembers them all.
func (r *room) sentAfter(seq int64) ([][]byte, bool) {
	if seq >= r.lastSeq {
		return nil, true
	}
	if len(r.recent) == 0 || r.recent[0].seq > seq+1 {
		return nil, false
	}
	var out [][]byte
	for _, e := range r.recent {
		if e.seq > seq {
			out = append(out, e.frame)
		}
	}
	return out, true
}

// join answers a join whose joiner read the snapshot and the replay from
// the log: the reply first, then the replay, then the events the room
// delivered after the joiner's read, then live ones. The first join sets
// the room's log position.
func (r *room) join(m joinMsg) error {
	switch {
	case r.ready && r.epoch != "" && m.epoch != "" && m.epoch != r.epoch:
		r.moveTo(m.head, m.epoch) // the joiner saw a new epoch first
	case !r.ready || (m.epoch != r.epoch && m.epoch != ""):
		r.restart(m.head, m.epoch)
		r.flush()
	}
	frames, seq := m.replay, max(m.head, r.lastSeq)
	if m.withSince && r.lastSeq > m.head {
		more, ok := r.sentAfter(m.head)
		if !ok {
			return errStaleJoin
		}
		frames = append(frames, more...)
	}
	m.data["seq"], m.data["epoch"] = seq, r.epoch
	reply := encode(outFrame{Op: "reply", Ref: m.ref, Status: "ok", Data: m.data})
	m.c.sendAll(append([][]byte{reply}, frames...))
	if _, again := r.subs[m.c]; !again && m.c.role == presence.RoleCustomer {
		r.localCustomers.Add(1)
	}
	r.subs[m.c] = seq
	if s, ok := m.data["session"].(*rooms.Session); ok && r.sess == nil {
		r.sess = s
	}
	if ind, ok := m.data["indicator"].(rooms.Indicator); ok {
		if !r.haveInd {
			// What the agent's reply said is what agents know: a status
			// follows only a change, and only from a newer read.
			r.ind, r.haveInd = ind, true
		}
		// Every agent's reply tells who is here as of its own read: a
		// presence read begun before it is older than what that agent
		// was told, and is read again rather than shown (it would flick
		// the customer offline right after the reply said online).
		if m.readAt.After(r.toldAt) {
			r.toldAt = m.readAt
		}
	}
	if r.seen {
		m.c.send(encode(outFrame{Op: "presence", Topic: r.topic, Data: r.joinerView(m)}))
	}
	return nil
}

// joinerView is who is here, as the joiner learns it at once. Where its
// own snapshot was read after the room's view and says otherwise of the
// customer (the room missed a hint, or its read is on the way), the
// snapshot is newer: the view would step its indicator back, so the
// joiner gets the snapshot's word and the room reads again.
func (r *room) joinerView(m joinMsg) presenceView {
	v := r.view
	ind, ok := m.data["indicator"].(rooms.Indicator)
	if ok && r.viewAt.Before(m.readAt) && ind.Online != v.CustomerOnline {
		v.CustomerOnline = ind.Online
		r.readPresence(0)
	}
	return v
}
