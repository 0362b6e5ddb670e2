package hub

import (
	"context"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

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
	// turn is which tick of a presence TTL the backstop reads the room
	// on: rooms take turns, so no tick reads them all.
	turn int
	// delivered mirrors lastSeq once the room has sent it to its
	// subscribers: a send's reply need not wait for an event sent before.
	delivered atomic.Int64

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

// pendingEvent is a logged event waiting for its turn, parsed once.
type pendingEvent struct {
	payload []byte
	typ     string
}

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

// acquire returns the room, starting it if needed; every acquire is
// matched by one release. The first acquirer subscribes the bus (outside
// the room goroutine); joiners wait for it before reading the log, so
// nothing committed after their read can be missed.
func (n *Node) acquire(id string) *room {
	n.mu.Lock()
	r := n.rooms[id]
	fresh := r == nil
	if fresh {
		n.turn = (n.turn + 1) % len(n.turns)
		r = &room{id: id, topic: roomTopic(id), node: n, turn: n.turn,
			subscribed: make(chan struct{}), subs: map[*conn]int64{}, pending: map[int64]pendingEvent{}}
		n.rooms[id] = r
		n.turns[r.turn][id] = r
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
		delete(n.turns[r.turn], r.id)
		if r.windowed.Swap(false) {
			n.windowedRooms.Add(-1)
		}
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
	r.delivered.Store(r.lastSeq)
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
