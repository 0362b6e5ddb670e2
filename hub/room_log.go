package hub

import (
	"context"
	"time"

	"github.com/cohub/cohub/rooms"
)

// flush delivers pending events in seq order; a gap is read from the log.
func (r *room) flush() {
	r.deliverReady()
	if len(r.pending) > 0 && skipGaps {
		r.lastSeq = r.lowestPending() - 1
		r.deliverReady()
	}
	if len(r.pending) > 0 {
		r.fetch(r.lowestPending() - 1)
	}
}

func (r *room) deliverReady() {
	for {
		p, ok := r.pending[r.lastSeq+1]
		if !ok {
			return
		}
		delete(r.pending, r.lastSeq+1)
		r.lastSeq++
		r.deliver(r.lastSeq, p)
	}
}

func (r *room) lowestPending() int64 {
	low := int64(-1)
	for s := range r.pending {
		if low < 0 || s < low {
			low = s
		}
	}
	return low
}

// fetch reads the log after lastSeq up to upTo, aside.
func (r *room) fetch(upTo int64) {
	from := r.lastSeq
	if upTo <= from || skipGaps {
		return
	}
	r.aside(readFetch, func(ctx context.Context) any {
		evs, err := r.node.store.Events(ctx, r.id, from, int(upTo-from))
		return fetched{events: evs, err: err}
	})
}

func (r *room) onFetched(m fetched) {
	again := r.finished(readFetch)
	if m.err != nil {
		r.node.noteErr(m.err, "room gap fill")
		time.AfterFunc(time.Second, func() { r.give(checkMsg{what: "log"}) })
		return
	}
	for _, e := range m.events {
		if _, have := r.pending[e.Seq]; have || e.Seq <= r.lastSeq {
			continue
		}
		if b, err := rooms.MarshalEvent(e); err == nil {
			r.pending[e.Seq] = pendingEvent{payload: b, typ: e.Type}
			r.node.metrics.GapsFilled.Inc()
		}
	}
	r.deliverReady()
	if again || len(r.pending) > 0 {
		r.flush()
	}
}

// catchUp reads the log's position aside and fills up to it: after a
// resubscribe, a lagging queue or a commit that did not come back.
func (r *room) catchUp() {
	r.aside(readPosition, func(ctx context.Context) any {
		seq, epoch, err := r.node.store.LastSeq(ctx, r.id)
		return logPos{seq: seq, epoch: epoch, err: err}
	})
}

func (r *room) onLogPos(m logPos) {
	if r.finished(readPosition) {
		r.catchUp()
	}
	if m.err != nil {
		r.node.noteErr(m.err, "room log position")
		return
	}
	if !r.ready {
		return // the first join sets the position
	}
	switch {
	case r.epoch == "" && m.epoch != "":
		r.epoch = m.epoch // the log began after the room did
	case m.epoch != r.epoch && m.epoch != "":
		// Another node began a new epoch (or the log was lost and begun
		// again): what the room's clients hold is numbered in the old one.
		r.moveTo(m.seq, m.epoch)
		return
	case m.seq < r.lastSeq:
		// The log went backwards (a failover lost its last writes): its
		// next commits would reuse numbers clients hold for other events.
		r.rebase()
		return
	}
	r.fetch(m.seq)
}

// rebase begins a new epoch of a log that went backwards, aside; the
// first node to ask wins, and the others adopt its epoch.
func (r *room) rebase() {
	rb, ok := r.node.store.(rooms.LogRebaser)
	if !ok {
		return
	}
	epoch, seen := r.epoch, r.lastSeq
	r.aside(readRebase, func(ctx context.Context) any {
		pos, err := rb.RebaseLog(ctx, r.id, epoch, seen)
		return rebased{pos: pos, err: err}
	})
}

func (r *room) onRebased(m rebased) {
	r.finished(readRebase)
	if m.err != nil {
		r.node.noteErr(m.err, "room log rebase")
		time.AfterFunc(time.Second, func() { r.give(checkMsg{what: "log"}) })
		return
	}
	if m.pos.Epoch != r.epoch {
		r.moveTo(m.pos.Seq, m.pos.Epoch)
		return
	}
	r.fetch(m.pos.Seq)
}

// moveTo takes the room to a new epoch of its log. Its clients hold
// events numbered in the old one, so they are closed with 1012: they
// rejoin with the since and epoch they hold, which the new epoch answers
// with recovered:false (the transcript starts over), never with events
// that reuse the numbers of others.
func (r *room) moveTo(seq int64, epoch string) {
	r.node.log.Warn().Str("session", r.id).Int64("log_seq", seq).Int64("room_seq", r.lastSeq).
		Msg("room log began a new epoch; its clients rejoin")
	r.node.metrics.EpochMoves.Inc()
	r.restart(seq, epoch)
	clear(r.pending) // numbered in the old epoch
	r.expect = seq
	for c := range r.subs {
		c.close(CloseRestarting, "room log epoch changed")
	}
}

// restart takes the room to a log position without delivering what
// came before it.
func (r *room) restart(seq int64, epoch string) {
	r.lastSeq, r.epoch, r.ready, r.recent = seq, epoch, true, nil
	for s := range r.pending {
		if s <= seq {
			delete(r.pending, s)
		}
	}
	for c, at := range r.subs {
		if at > seq {
			r.subs[c] = seq
		}
	}
}

// committed notes that this node committed up to seq: if the bus has not
// brought it within a second (a lost publish with nothing after it), the
// room reads the log.
func (r *room) committed(seq int64) {
	if seq <= r.lastSeq || seq <= r.expect {
		return
	}
	first := r.expect <= r.lastSeq
	r.expect = seq
	if first {
		time.AfterFunc(time.Second, func() { r.give(checkMsg{what: "expected"}) })
	}
}

func (r *room) check(what string) {
	switch what {
	case "log":
		r.catchUp()
	case "expected":
		if r.expect > r.lastSeq {
			r.catchUp()
			time.AfterFunc(time.Second, func() { r.give(checkMsg{what: "expected"}) })
		}
	case "access":
		r.checkAccess()
		r.status()
	}
}
