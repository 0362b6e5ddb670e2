package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// room is one live room on this node: it owns the room's local
// subscribers and hands them events in seq order, on a goroutine of its
// own that runs while the room has messages to handle (one at a time, in
// order) and ends when it has none, so an idle room costs no parked
// goroutine. It never waits: not on a client (sends are queued, closes
// happen elsewhere) and not on Redis (every read runs aside and hands its
// result back as a message). It is gone when its last local subscriber
// leaves.
type room struct {
	id         string
	topic      string
	node       *Node
	refs       int           // guarded by node.mu
	subscribed chan struct{} // closed once the bus subscription is in place
	lagging    atomic.Bool   // a bus message did not fit in: read the log
	agentsHere atomic.Bool
	// customerOnline and windowed let the node's loop pick the rooms its
	// backstops look at: a customer shown online (presence may have
	// ended unannounced), an ended session whose access window runs out.
	customerOnline atomic.Bool
	windowed       atomic.Bool
	// localCustomers counts the customers subscribed here: a room with
	// one is online for sure, and the presence backstop skips it.
	localCustomers atomic.Int32

	mu      sync.Mutex // guards queue, running and gone
	queue   []any      // messages waiting for the room, in order
	running bool       // a goroutine is handling the queue
	gone    bool       // released: messages are dropped

	// owned by whichever goroutine handles the queue (one at a time)
	subs    map[*conn]int64 // subscriber -> the last seq it was sent
	ready   bool
	lastSeq int64
	epoch   string
	pending map[int64]pendingEvent
	recent  []sentEvent // the last frames sent, for joins that read the log a moment ago
	sess    *rooms.Session
	ind     rooms.Indicator
	haveInd bool
	view    presenceView
	viewAt  time.Time // when the read behind view began
	toldAt  time.Time // presence read before this is older than what agents were told
	seen    bool      // presence was read at least once
	expect  int64     // the highest seq this node committed in the room
	reads   [readKinds]read
}

// read is one kind of read running aside: at most one at a time, and one
// more after it when asked again meanwhile.
type read struct {
	running, again bool
}

// The kinds of read a room runs aside (an array, not a map: every idle
// room holds one).
type readKind int

const (
	readFetch readKind = iota
	readPosition
	readRebase
	readSession
	readPresence
	readKinds
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

// pendingEvent is a logged event waiting for its turn, parsed once.
type pendingEvent struct {
	payload []byte
	typ     string
}

// sentEvent is a delivered event's frame.
type sentEvent struct {
	seq   int64
	frame []byte
}

// recentKeep is how many delivered frames a room keeps for joiners.
const recentKeep = 64

// Messages a room goroutine takes.
type (
	startMsg struct{}
	busMsg   struct {
		payload []byte
		at      time.Time // when it came off the bus
	}
	resyncMsg struct{}
	// committedMsg: this node committed up to seq in the room.
	committedMsg struct{ seq int64 }
	// checkMsg: a backstop's turn (the log, or the access window).
	checkMsg struct{ what string }
	// presenceHint: re-read presence now, and again after `after`.
	presenceHint struct{ after time.Duration }
	joinMsg      struct {
		c         *conn
		ref       string
		head      int64 // the log's last seq when the joiner read it
		epoch     string
		data      map[string]any // the reply's data: the joiner's snapshot
		readAt    time.Time      // when the snapshot's read began
		replay    [][]byte       // the events the joiner read after since
		withSince bool
		done      chan error
	}
	leaveMsg struct {
		c    *conn
		done chan struct{}
	}
	// results of reads run aside
	fetched struct {
		events []rooms.Event
		err    error
	}
	logPos struct {
		seq   int64
		epoch string
		err   error
	}
	rebased struct {
		pos rooms.LogPosition
		err error
	}
	loaded struct {
		sess *rooms.Session
		err  error
	}
	presenceRead struct {
		conns []presence.Conn
		at    time.Time // when the read began
		err   error
	}
)

const maxPending = 4096

// maxQueued bounds the bus messages waiting for a room: past it the room
// is lagging and reads the log instead.
const maxQueued = 128

// errStaleJoin: the joiner's read of the log is older than what the room
// still remembers; it reads again.
var errStaleJoin = errors.New("join read is stale")

// acquire returns the room, starting it if needed; every acquire is
// matched by one release. The first acquirer subscribes the bus (outside
// the room goroutine); joiners wait for it before reading the log, so
// nothing committed after their read can be missed.
func (n *Node) acquire(id string) *room {
	n.mu.Lock()
	r := n.rooms[id]
	fresh := r == nil
	if fresh {
		r = &room{id: id, topic: roomTopic(id), node: n,
			subscribed: make(chan struct{}), subs: map[*conn]int64{}, pending: map[int64]pendingEvent{}}
		n.rooms[id] = r
		n.metrics.Rooms.Inc()
	}
	r.refs++
	n.mu.Unlock()
	if fresh {
		n.subMu.Lock()
		n.noteErr(n.bus.Subscribe(n.ctx, r.topic), "bus subscribe")
		n.subMu.Unlock()
		close(r.subscribed)
		r.give(startMsg{})
	}
	return r
}

func (n *Node) release(r *room) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r.refs--
	if r.refs == 0 {
		delete(n.rooms, r.id)
		r.mu.Lock()
		r.gone, r.queue = true, nil
		r.mu.Unlock()
		n.metrics.Rooms.Dec()
		go r.exit()
	}
}

// post hands the room a message without blocking; a bus message that
// finds the queue full marks the room lagging, and a check soon reads the
// log.
func (r *room) post(msg any) {
	if _, bus := msg.(busMsg); bus {
		r.mu.Lock()
		full := len(r.queue) >= maxQueued
		r.mu.Unlock()
		if full {
			if !r.lagging.Swap(true) {
				time.AfterFunc(100*time.Millisecond, func() { r.give(checkMsg{what: "log"}) })
			}
			return
		}
	}
	r.give(msg)
}

// give hands the room a message that must arrive (results, joins,
// leaves), starting its goroutine if none runs; false once the room is
// gone.
func (r *room) give(msg any) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone {
		return false
	}
	r.queue = append(r.queue, msg)
	if !r.running {
		r.running = true
		go r.run()
	}
	return true
}

// run handles the queued messages in order and ends when there are none.
func (r *room) run() {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 || r.gone {
			r.running = false
			r.mu.Unlock()
			return
		}
		m := r.queue[0]
		r.queue[0] = nil
		r.queue = r.queue[1:]
		if len(r.queue) == 0 {
			r.queue = nil // let an idle room hold no buffer
		}
		r.mu.Unlock()
		r.handle(m)
	}
}

// exit unsubscribes unless a new room for the session took over.
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

func (r *room) handle(m any) {
	defer func() {
		// A bug must not take the node down: log it, and make the room
		// catch up from the log.
		if p := recover(); p != nil {
			r.node.log.Error().Interface("panic", p).Str("session", r.id).Bytes("stack", debug.Stack()).Msg("room panicked")
			r.lagging.Store(true)
			if j, ok := m.(joinMsg); ok {
				j.done <- rooms.ErrUnavailable
			}
		}
	}()
	if r.lagging.Swap(false) {
		r.catchUp()
	}
	switch m := m.(type) {
	case startMsg:
		r.load()
		r.readPresence(0)
	case busMsg:
		r.node.waited(time.Since(m.at))
		r.onBus(m.payload)
	case joinMsg:
		m.done <- r.join(m)
	case leaveMsg:
		if _, ok := r.subs[m.c]; ok && m.c.role == presence.RoleCustomer {
			r.localCustomers.Add(-1)
		}
		delete(r.subs, m.c)
		close(m.done)
	case committedMsg:
		r.committed(m.seq)
	case checkMsg:
		r.check(m.what)
	case presenceHint:
		r.readPresence(m.after)
	case resyncMsg:
		r.catchUp()
		r.readPresence(0)
	case fetched:
		r.onFetched(m)
	case logPos:
		r.onLogPos(m)
	case rebased:
		r.onRebased(m)
	case loaded:
		r.onLoaded(m)
	case presenceRead:
		r.onPresence(m)
	}
}

// aside runs a read off the room goroutine and hands its result back:
// one of each kind at a time, and once more if asked again meanwhile.
func (r *room) aside(kind readKind, fn func(ctx context.Context) any) {
	rd := &r.reads[kind]
	if rd.running {
		rd.again = true
		return
	}
	rd.running = true
	go func() {
		ctx, cancel := context.WithTimeout(r.node.ctx, 5*time.Second)
		defer cancel()
		r.give(fn(ctx))
	}()
}

// finished marks a read done and reports whether it was asked again.
func (r *room) finished(kind readKind) bool {
	rd := &r.reads[kind]
	again := rd.again
	rd.running, rd.again = false, false
	return again
}

// busHead is enough of a bus message to route it.
type busHead struct {
	Seq     int64  `json:"seq"`
	Type    string `json:"type"`
	Op      string `json:"op"`
	Role    string `json:"role"`
	Conn    string `json:"conn"`
	AfterMS int64  `json:"after_ms"`
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
	}
}

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
		if b, err := json.Marshal(e); err == nil {
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
		c.close(closeRestarting, "room log epoch changed")
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

func eventFrame(topic string, seq int64, payload []byte) []byte {
	// %q quotes the Go way (\x7f, \a), which is not JSON.
	t, _ := json.Marshal(topic)
	return fmt.Appendf(nil, `{"op":"event","topic":%s,"seq":%d,"data":%s}`, t, seq, payload)
}

// deliver sends one event to every local subscriber that has not had it,
// and reacts to events that change the session.
func (r *room) deliver(seq int64, e pendingEvent) {
	frame := eventFrame(r.topic, seq, e.payload)
	r.remember(seq, frame)
	for c, at := range r.subs {
		if at < seq {
			c.send(frame)
			r.subs[c] = seq
		}
	}
	if e.typ == rooms.EventMessage {
		return
	}
	if e.typ == rooms.EventReengaged {
		r.closeCustomers(closeCredential, "link revoked")
	}
	r.load()
}

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
	r.windowed.Store(r.sess.State == rooms.StateEnded && rooms.CustomerAccess(r.sess, r.node.svc.Now()) != "")
	r.checkAccess()
	r.status()
}

// checkAccess closes customers who may no longer see the room: an end
// with access none, or a full_for / limited_for window run out.
func (r *room) checkAccess() {
	if r.sess != nil && rooms.CustomerAccess(r.sess, r.node.svc.Now()) == "" {
		r.windowed.Store(false)
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
	ind := rooms.ComputeIndicator(r.sess, r.view.CustomerOnline, r.node.svc.Now())
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
