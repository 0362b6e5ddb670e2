package hub

import (
	"context"
	"sort"
	"time"

	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// presenceView is who is in the room, as the presence frame says.
type presenceView struct {
	Agents         []agentRef `json:"agents"`
	CustomerOnline bool       `json:"customer_online"`
}

type agentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// readPresence reads who is in the room aside, now and, for a leave
// that keeps its grace, once more when the grace has run out.
func (r *room) readPresence(after time.Duration) {
	if after > 0 {
		time.AfterFunc(after+50*time.Millisecond, func() { r.give(presenceHint{}) })
	}
	r.aside(readPresence, func(ctx context.Context) any {
		at := time.Now()
		view, err := r.node.pres.Rooms(ctx, []string{r.id}, at)
		return presenceRead{conns: view[r.id], at: at, err: err}
	})
}

func (r *room) onPresence(m presenceRead) {
	if r.finished(readPresence) {
		r.readPresence(0)
	}
	if m.err != nil {
		r.node.noteErr(m.err, "presence read")
		return
	}
	if m.at.Before(r.toldAt) {
		// Older than what an agent's join reply told: read again
		// rather than show a customer who just joined offline.
		r.readPresence(0)
		return
	}
	r.viewAt = m.at
	r.setPresence(m.conns)
}

// setPresence pushes presence and status frames when what agents see
// changed; a customer going offline records last_seen_at.
func (r *room) setPresence(conns []presence.Conn) {
	v := presenceView{Agents: []agentRef{}, CustomerOnline: presence.CustomerOnline(conns)}
	ids := map[string]bool{}
	for _, c := range conns {
		if c.Role == presence.RoleAgent && !ids[c.AgentID] {
			ids[c.AgentID] = true
			v.Agents = append(v.Agents, agentRef{ID: c.AgentID, Name: c.Name})
		}
	}
	sort.Slice(v.Agents, func(i, j int) bool { return v.Agents[i].ID < v.Agents[j].ID })
	if r.seen && r.view.CustomerOnline && !v.CustomerOnline && r.sess != nil {
		now := time.Now().UTC()
		r.sess.Internal.LastSeenAt = &now
		go r.node.recordSeen(r.id, now)
	}
	changed := !r.seen || !sameView(r.view, v)
	r.view, r.seen = v, true
	r.agentsHere.Store(len(v.Agents) > 0)
	r.customerOnline.Store(v.CustomerOnline)
	if changed {
		frame := encode(outFrame{Op: "presence", Topic: r.topic, Data: v})
		for c := range r.subs {
			c.send(frame)
		}
	}
	r.status()
}

func sameView(a, b presenceView) bool {
	if a.CustomerOnline != b.CustomerOnline || len(a.Agents) != len(b.Agents) {
		return false
	}
	for i := range a.Agents {
		if a.Agents[i] != b.Agents[i] {
			return false
		}
	}
	return true
}

// status pushes the indicator to the room's agents when its state,
// authentication or consent changed.
func (r *room) status() {
	if r.sess == nil || !r.seen {
		return
	}
	if r.reads[readPresence].running {
		// A presence read is on its way (a hint came before this
		// change, as a customer's join writes presence before it logs
		// customer.joined): its result decides, so agents never see a
		// joined customer offline for a moment.
		return
	}
	ind := rooms.ComputeIndicator(r.sess, r.view.CustomerOnline, r.node.sessions.Now())
	same := r.haveInd && ind.State == r.ind.State && ind.Gate == r.ind.Gate && ind.Opened == r.ind.Opened &&
		ind.Authentication == r.ind.Authentication && ind.Consent == r.ind.Consent
	r.ind, r.haveInd = ind, true
	if same {
		return
	}
	frame := encode(outFrame{Op: "status", Topic: r.topic, Data: ind})
	for c := range r.subs {
		if c.role == presence.RoleAgent {
			c.send(frame)
		}
	}
}
