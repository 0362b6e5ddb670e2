package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// room is one live room on this node: a goroutine that owns the room's
// local subscribers and hands them events in seq order. It never waits
// on a client (sends are queued, closes happen elsewhere) and exits when
// its last local subscriber leaves.
type room struct {
	id         string
	topic      string
	node       *Node
	in         chan any
	done       chan struct{}
	refs       int // guarded by node.mu
	lagging    atomic.Bool
	agentsHere atomic.Bool

	// owned by the goroutine
	subs    map[*conn]struct{}
	ready   bool
	lastSeq int64
	epoch   string
	pending map[int64]pendingEvent
	sess    *rooms.Session
	ind     rooms.Indicator
	haveInd bool
	view    presenceView
	seen    bool // presence was read at least once
}

// presenceView is who is in the room, as the presence frame says.
type presenceView struct {
	Agents         []agentRef `json:"agents"`
	CustomerOnline bool       `json:"customer_online"`
}

type agentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type busMsg struct{ payload []byte }

// pendingEvent is a logged event waiting for its turn, parsed once.
type pendingEvent struct {
	payload []byte
	typ     string
}
type resyncMsg struct{}
type tickMsg struct {
	conns []presence.Conn
	known bool
	log   *rooms.LogPosition // nil: not read
}
type joinMsg struct {
	c        *conn
	ref      string
	since    *int64
	epoch    string
	snapshot func(context.Context) (map[string]any, error)
	done     chan error
}
type leaveMsg struct {
	c    *conn
	done chan struct{}
}

const maxPending = 4096

// acquire returns the room's goroutine, starting it if needed; every
// acquire is matched by one release.
func (n *Node) acquire(id string) *room {
	n.mu.Lock()
	defer n.mu.Unlock()
	r := n.rooms[id]
	if r == nil {
		r = &room{id: id, topic: roomTopic(id), node: n, in: make(chan any, 256), done: make(chan struct{}),
			subs: map[*conn]struct{}{}, pending: map[int64]pendingEvent{}}
		n.rooms[id] = r
		n.metrics.Rooms.Inc()
		go r.run()
	}
	r.refs++
	return r
}

func (n *Node) release(r *room) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r.refs--
	if r.refs == 0 {
		delete(n.rooms, r.id)
		close(r.done)
		n.metrics.Rooms.Dec()
	}
}

// post hands the room a message without blocking; a bus message that
// does not fit marks the room lagging and its next tick reads the log.
func (r *room) post(msg any) {
	select {
	case r.in <- msg:
	case <-r.done:
	default:
		if _, ok := msg.(busMsg); ok {
			r.lagging.Store(true)
		}
	}
}

// call hands the room a message that must arrive (joins, leaves).
func (r *room) call(msg any) bool {
	select {
	case r.in <- msg:
		return true
	case <-r.done:
		return false
	}
}

func (r *room) run() {
	n := r.node
	n.subMu.Lock()
	if err := n.bus.Subscribe(n.ctx, r.topic); err != nil {
		n.noteErr(err, "bus subscribe")
	}
	n.subMu.Unlock()
	r.init()
	for {
		select {
		case <-r.done:
			r.exit()
			return
		case m := <-r.in:
			r.handle(m)
		}
	}
}

// exit unsubscribes unless a new goroutine for the room took over.
func (r *room) exit() {
	n := r.node
	n.subMu.Lock()
	defer n.subMu.Unlock()
	n.mu.RLock()
	_, again := n.rooms[r.id]
	n.mu.RUnlock()
	if !again {
		n.bus.Unsubscribe(n.ctx, r.topic)
	}
}

func (r *room) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.node.ctx, 5*time.Second)
}

// init reads the log position, the session and presence; the bus is
// subscribed first, so nothing published after this read is missed.
func (r *room) init() {
	ctx, cancel := r.ctx()
	defer cancel()
	seq, epoch, err := r.node.store.LastSeq(ctx, r.id)
	if err != nil {
		r.node.noteErr(err, "room log position")
		return
	}
	r.lastSeq, r.epoch, r.ready = seq, epoch, true
	for s := range r.pending {
		if s <= seq {
			delete(r.pending, s)
		}
	}
	r.reload(ctx)
	r.readPresence(ctx)
	r.flush(ctx)
}

func (r *room) handle(m any) {
	ctx, cancel := r.ctx()
	defer cancel()
	defer func() {
		// A bug must not take the node down: log it, and make the room
		// catch up from the log on its next tick.
		if p := recover(); p != nil {
			r.node.log.Error().Interface("panic", p).Str("session", r.id).Bytes("stack", debug.Stack()).Msg("room panicked")
			r.lagging.Store(true)
			if j, ok := m.(joinMsg); ok {
				j.done <- rooms.ErrUnavailable
			}
		}
	}()
	switch m := m.(type) {
	case busMsg:
		r.onBus(ctx, m.payload)
	case joinMsg:
		m.done <- r.join(ctx, m)
	case leaveMsg:
		delete(r.subs, m.c)
		close(m.done)
	case tickMsg:
		r.tick(ctx, m)
	case resyncMsg:
		r.catchUp(ctx)
		r.readPresence(ctx)
	}
}

// busHead is enough of a bus message to route it.
type busHead struct {
	Seq  int64  `json:"seq"`
	Type string `json:"type"`
	Op   string `json:"op"`
	Role string `json:"role"`
	Conn string `json:"conn"`
}

func (r *room) onBus(ctx context.Context, payload []byte) {
	var h busHead
	if json.Unmarshal(payload, &h) != nil {
		return
	}
	switch {
	case h.Seq > 0:
		if h.Seq > r.lastSeq && len(r.pending) < maxPending {
			r.pending[h.Seq] = pendingEvent{payload: payload, typ: h.Type}
		}
		if r.ready {
			r.flush(ctx)
		}
	case h.Op == "presence":
		r.readPresence(ctx)
	case h.Op == "typing":
		r.typing(h)
	}
}

// flush delivers pending events in seq order; a gap is filled from the
// log first.
func (r *room) flush(ctx context.Context) {
	r.deliverReady(ctx)
	if len(r.pending) > 0 {
		r.fill(ctx, r.lowestPending()-1)
		r.deliverReady(ctx)
	}
}

func (r *room) deliverReady(ctx context.Context) {
	for {
		p, ok := r.pending[r.lastSeq+1]
		if !ok {
			return
		}
		delete(r.pending, r.lastSeq+1)
		r.lastSeq++
		r.deliver(ctx, r.lastSeq, p)
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

// fill reads the log after lastSeq up to seq into pending.
func (r *room) fill(ctx context.Context, upTo int64) {
	if upTo <= r.lastSeq {
		return
	}
	evs, err := r.node.store.Events(ctx, r.id, r.lastSeq, int(upTo-r.lastSeq))
	if err != nil {
		r.node.noteErr(err, "room gap fill")
		return
	}
	for _, e := range evs {
		if _, have := r.pending[e.Seq]; have || e.Seq <= r.lastSeq {
			continue
		}
		if b, err := json.Marshal(e); err == nil {
			r.pending[e.Seq] = pendingEvent{payload: b, typ: e.Type}
			r.node.metrics.GapsFilled.Inc()
		}
	}
}

// catchUp re-reads the log's last seq and fills up to it: a lost last
// event is noticed even when no later one reveals the gap.
func (r *room) catchUp(ctx context.Context) {
	if !r.ready {
		r.init()
		return
	}
	seq, epoch, err := r.node.store.LastSeq(ctx, r.id)
	if err != nil {
		r.node.noteErr(err, "room log position")
		return
	}
	if epoch != r.epoch && epoch != "" && r.epoch != "" {
		// The log was lost and begun again; clients rejoin with since
		// and get recovered:false.
		r.node.log.Warn().Str("session", r.id).Msg("room log epoch changed")
		r.epoch, r.lastSeq = epoch, 0
		clear(r.pending)
	}
	r.epoch = epoch
	r.fill(ctx, seq)
	r.deliverReady(ctx)
}

func eventFrame(topic string, seq int64, payload []byte) []byte {
	return fmt.Appendf(nil, `{"op":"event","topic":%q,"seq":%d,"data":%s}`, topic, seq, payload)
}

// deliver sends one event to every local subscriber and reacts to
// events that change the session.
func (r *room) deliver(ctx context.Context, seq int64, e pendingEvent) {
	frame := eventFrame(r.topic, seq, e.payload)
	for c := range r.subs {
		c.send(frame)
	}
	if e.typ == rooms.EventMessage {
		return
	}
	r.reload(ctx)
	switch e.typ {
	case rooms.EventReengaged:
		r.closeCustomers(closeCredential, "link revoked")
	case rooms.EventSessionEnded:
		r.checkAccess()
	}
	r.status()
}

func (r *room) reload(ctx context.Context) {
	s, err := r.node.store.Session(ctx, r.id)
	if err != nil {
		if !errors.Is(err, rooms.ErrNotFound) {
			r.node.noteErr(err, "room session")
		}
		return
	}
	r.sess = s
}

// checkAccess closes customers who may no longer see the room: an end
// with access none, or a full_for / limited_for window run out.
func (r *room) checkAccess() {
	if r.sess != nil && rooms.CustomerAccess(r.sess, r.node.svc.Now()) == "" {
		r.closeCustomers(closeEnded, "session ended")
	}
}

func (r *room) closeCustomers(code websocket.StatusCode, reason string) {
	for c := range r.subs {
		if c.role == presence.RoleCustomer {
			c.close(code, reason)
		}
	}
}

func (r *room) tick(ctx context.Context, m tickMsg) {
	lagging := r.lagging.Swap(false)
	switch {
	case !r.ready || lagging || m.log == nil:
		r.catchUp(ctx)
	case m.log.Epoch != r.epoch || m.log.Seq > r.lastSeq:
		r.catchUp(ctx) // the batch saw the log ahead (or begun again)
	}
	if m.known {
		r.setPresence(ctx, m.conns)
	}
	r.checkAccess()
}

func (r *room) readPresence(ctx context.Context) {
	view, err := r.node.pres.Rooms(ctx, []string{r.id}, time.Now())
	if err != nil {
		r.node.noteErr(err, "presence read")
		return
	}
	r.setPresence(ctx, view[r.id])
}

// setPresence pushes presence and status frames when what agents see
// changed; a customer going offline records last_seen_at.
func (r *room) setPresence(ctx context.Context, conns []presence.Conn) {
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
	if r.sess == nil {
		return
	}
	rooms.Unlock(r.sess, r.node.svc.Now())
	ind := rooms.ComputeIndicator(r.sess, r.view.CustomerOnline)
	same := r.haveInd && ind.State == r.ind.State &&
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

// join answers a join: the reply first (with the snapshot), then the
// missed events when since is given, then live ones.
func (r *room) join(ctx context.Context, m joinMsg) error {
	if !r.ready {
		r.init()
		if !r.ready {
			return rooms.ErrUnavailable
		}
	}
	r.catchUp(ctx)
	data, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	data["seq"], data["epoch"] = r.lastSeq, r.epoch
	var replay [][]byte
	if m.since != nil {
		replay, data["recovered"] = r.replay(ctx, *m.since, m.epoch)
	}
	reply := encode(outFrame{Op: "reply", Ref: m.ref, Status: "ok", Data: data})
	frames := append([][]byte{reply}, replay...)
	if r.seen {
		// Who is here now: later presence frames only say what changed.
		frames = append(frames, encode(outFrame{Op: "presence", Topic: r.topic, Data: r.view}))
	}
	m.c.sendAll(frames)
	r.subs[m.c] = struct{}{}
	return nil
}

// replay returns the event frames after since, or false when since
// cannot be served (another epoch, or past the last seq).
func (r *room) replay(ctx context.Context, since int64, epoch string) ([][]byte, bool) {
	if (epoch != "" && epoch != r.epoch) || since < 0 || since > r.lastSeq {
		return nil, false
	}
	if since == r.lastSeq {
		return nil, true
	}
	evs, err := r.node.store.Events(ctx, r.id, since, int(r.lastSeq-since))
	if err != nil {
		r.node.noteErr(err, "room replay")
		return nil, false
	}
	out := make([][]byte, 0, len(evs))
	for _, e := range evs {
		if e.Seq > r.lastSeq {
			break
		}
		b, err := json.Marshal(e)
		if err != nil {
			return nil, false
		}
		out = append(out, eventFrame(r.topic, e.Seq, b))
	}
	return out, int64(len(out)) == r.lastSeq-since
}
