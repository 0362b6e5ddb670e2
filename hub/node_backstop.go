package hub

import (
	"context"
	"time"

	"github.com/cohub/cohub/presence"
)

// checkWindows asks rooms whose session ended with an access window to
// check it: when it runs out, customers are closed with 4010.
func (n *Node) checkWindows() {
	if n.windowedRooms.Load() == 0 {
		return
	}
	for _, r := range n.liveRooms(n.rooms, func(r *room) bool { return r.windowed.Load() }) {
		r.post(checkMsg{what: "access"})
	}
}

// presenceBackstop re-reads, in one batch, the rooms whose turn it is
// among those showing a customer online: a hint lost with a pub/sub
// message must not leave a customer online forever. Rooms showing nobody
// learn of arrivals from hints, and a room with a customer connected to
// this node is online for sure. Each room has its turn once every
// presence TTL. Read all on one tick, a node with 10,000 such rooms would
// send Redis 10,000 scripts at once, and every node's messages would
// wait behind them.
func (n *Node) presenceBackstop(ctx context.Context, now time.Time, turn int) {
	list := n.liveRooms(n.turns[turn], func(r *room) bool {
		return r.customerOnline.Load() && r.localCustomers.Load() == 0
	})
	if len(list) == 0 {
		return
	}
	n.metrics.BackstopRooms.Observe(float64(len(list)))
	ids := make([]string, len(list))
	for i, r := range list {
		ids[i] = r.id
	}
	view, err := n.pres.Rooms(ctx, ids, now)
	if err != nil {
		n.notePresence(err, "presence backstop")
		return
	}
	for _, r := range list {
		if !presence.CustomerOnline(view[r.id]) {
			r.post(presenceHint{})
		}
	}
}

// backstopTurns is how many ticks a presence TTL spans: the rooms' turns.
func backstopTurns(cfg Config) int {
	return int(max(cfg.PresenceTTL/cfg.Tick, 1))
}

// liveRooms lists the live rooms of set (n.rooms or a turn's) that match.
func (n *Node) liveRooms(set map[string]*room, match func(*room) bool) []*room {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []*room
	for _, r := range set {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}
