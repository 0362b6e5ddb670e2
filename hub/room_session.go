package hub

import (
	"context"
	"errors"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// load reads the session aside: its state drives the status, the access
// checks and the close of customers after an end.
func (r *room) load() {
	r.aside(readSession, func(ctx context.Context) any {
		s, err := r.node.store.Session(ctx, r.id)
		return loaded{sess: s, err: err}
	})
}

func (r *room) onLoaded(m loaded) {
	if r.finished(readSession) {
		r.load()
	}
	if m.err != nil {
		if !errors.Is(m.err, rooms.ErrNotFound) {
			r.node.noteErr(m.err, "room session")
		}
		return
	}
	r.sess = m.sess
	r.setWindowed(r.sess.State == rooms.StateEnded && rooms.CustomerAccess(r.sess, r.node.sessions.Now()) != "")
	r.checkAccess()
	r.status()
}

// checkAccess closes customers who may no longer see the room: an end
// with access none, or a full_for / limited_for window run out.
func (r *room) checkAccess() {
	if r.sess != nil && rooms.CustomerAccess(r.sess, r.node.sessions.Now()) == "" {
		r.setWindowed(false)
		r.closeCustomers(CloseEnded, "session ended")
	}
}

// setWindowed marks the room as one the node's loop checks, and keeps
// the node's count of them, so a node with none skips the check.
func (r *room) setWindowed(on bool) {
	switch was := r.windowed.Swap(on); {
	case on && !was:
		r.node.windowedRooms.Add(1)
	case !on && was:
		r.node.windowedRooms.Add(-1)
	}
}

func (r *room) closeCustomers(code websocket.StatusCode, reason string) {
	for c := range r.subs {
		if c.role == presence.RoleCustomer {
			c.close(code, reason)
		}
	}
}
