// Package hub is the live side of Cohub: WebSocket connections, one
// goroutine per live room per node, kept in sync across nodes over the
// bus (package bus), and presence feeding the customer indicator.
package hub

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// Config wires a node.
type Config struct {
	Service  *rooms.Service
	Bus      bus.Bus
	Presence presence.Tracker
	// Node names this node in presence entries. Zero value: a random id.
	Node string
	// Origins are allowed browser origins besides the request's own host
	// ("https://cohub.example.com").
	Origins []string
	// PresenceTTL (10 s) bounds how long a dead node's entries count;
	// LeaveGrace (3 s) keeps a closed connection present so a reload
	// does not flap; PingEvery (10 s) and PongWait (5 s) find silent
	// networks; Tick (1 s) paces presence checks and log re-reads.
	PresenceTTL, LeaveGrace, PingEvery, PongWait, Tick time.Duration
	Metrics                                            *Metrics
	Log                                                zerolog.Logger
	// RecheckEvery (6): every so many pings (a minute by default) a
	// connection's credential and rooms are checked again, so a logout, a
	// revoked link or lost access closes it.
	RecheckEvery int
	// FrameRate (20/s) and FrameBurst (40) limit a connection's frames;
	// SendQueue (256) bounds the frames waiting for a slow client;
	// ReplayPage (128, at most half the queue) is how many events one
	// join replays at most.
	FrameRate, FrameBurst, SendQueue, ReplayPage int
	// MaxInflight (512) bounds the sends and task completions a node has
	// in flight to the backend: past it they are refused at once with
	// "overloaded", so what is admitted keeps a bounded latency instead
	// of every message waiting longer and longer.
	MaxInflight int
	// LateAfter (50 ms): work that waited longer (a frame for its op, a
	// bus message for its room) says the node is past what it can do in
	// time, and it refuses new sends for a quarter of a second. Lower
	// keeps admitted messages prompter under overload; too low refuses on
	// a passing hiccup (a client resends after retry_after_ms).
	LateAfter time.Duration
	// MaxConnsPerLink (5) bounds the open connections of one customer
	// session, and MaxAgentConnsPerRoom (20) those of one agent joined to
	// one room or holding a replay page of it, per node. An agent's
	// connections are not bounded as such: one account may host many
	// rooms (integrations, the load bench), and what each connection can
	// hold is bounded by paging and its queue.
	MaxConnsPerLink, MaxAgentConnsPerRoom int
}

// DefaultPingEvery is how often a node pings each connection: a proxy in
// front must let a WebSocket be quiet longer than that (deploy/nginx.conf).
const DefaultPingEvery = 10 * time.Second

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.PresenceTTL, 10*time.Second)
	set(&c.LeaveGrace, 3*time.Second)
	set(&c.PingEvery, DefaultPingEvery)
	set(&c.PongWait, 5*time.Second)
	set(&c.Tick, time.Second)
	set(&c.LateAfter, 50*time.Millisecond)
	for _, v := range []struct {
		p   *int
		def int
	}{{&c.FrameRate, 20}, {&c.FrameBurst, 40}, {&c.SendQueue, 256}, {&c.RecheckEvery, 6},
		{&c.MaxConnsPerLink, 5}, {&c.MaxAgentConnsPerRoom, 20}, {&c.MaxInflight, 512}} {
		if *v.p == 0 {
			*v.p = v.def
		}
	}
	if c.ReplayPage <= 0 || c.ReplayPage > c.SendQueue/2 {
		c.ReplayPage = max(min(128, c.SendQueue/2), 1)
	}
	if c.Node == "" {
		c.Node = "n_" + ulid.Make().String()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
}

// Node is one server's hub.
type Node struct {
	cfg     Config
	id      string
	svc     *rooms.Service
	store   rooms.RoomReader
	bus     bus.Bus
	pres    presence.Tracker
	metrics *Metrics
	log     zerolog.Logger

	seq      atomic.Uint64
	inflight atomic.Int64 // sends and completions waiting on the backend
	troubled atomic.Int64 // unix ns of the node's last failed presence call
	lateTill atomic.Int64 // unix ns: until then the node counts as running late
	closing  atomic.Bool
	killed   atomic.Bool
	ctx      context.Context
	stop     context.CancelFunc
	handlers sync.WaitGroup

	mu      sync.RWMutex
	conns   map[*conn]struct{}
	slots   map[string]int // open connections per customer session and per agent
	rooms   map[string]*room
	inboxes map[string]map[*conn]struct{}
	entries map[string]*heldEntry // connID|room -> presence entry
	presMu  sync.Mutex            // orders refreshes and leaves
	logs    logLimiter
	subMu   sync.Mutex // orders a room's bus subscribe and unsubscribe
}

// NewNode builds a node; Run starts its loops.
func NewNode(cfg Config) *Node {
	cfg.defaults()
	ctx, stop := context.WithCancel(context.Background())
	n := &Node{
		cfg: cfg, id: cfg.Node, svc: cfg.Service, store: cfg.Service.Store(), bus: cfg.Bus,
		pres: cfg.Presence, metrics: cfg.Metrics, log: cfg.Log.With().Str("node", cfg.Node).Logger(),
		ctx: ctx, stop: stop,
		conns: map[*conn]struct{}{}, rooms: map[string]*room{}, slots: map[string]int{},
		inboxes: map[string]map[*conn]struct{}{}, entries: map[string]*heldEntry{},
	}
	cfg.Service.OnCommit(n.onCommit)
	cfg.Service.OnAgentChanged(n.publishAgentChanged)
	// What this node logs, its room expects from the bus: if it does not
	// come, the room reads the log.
	cfg.Service.OnLogged(func(id string, seq int64) { n.post(id, committedMsg{seq: seq}) })
	return n
}

// ID is the node's name in presence entries.
func (n *Node) ID() string { return n.id }

// Start connects the bus and runs the node's ticker until ctx ends or
// Shutdown; call it before serving connections.
func (n *Node) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(n.ctx, cancel)
	n.noteErr(n.bus.Subscribe(ctx, agentsTopic), "agents subscribe")
	n.bus.Start(ctx, n)
	// Alive before any entry: a node that dies at once is still reaped.
	n.refresh(ctx, false)
	go n.loop(ctx)
}

// loop pings, refreshes presence, reaps dead nodes and runs the rooms'
// backstops on the node's tick. Nothing here reads every live room: rooms
// learn of changes from the bus (events, presence hints), and the
// backstops look only at rooms that may have changed unannounced.
func (n *Node) loop(ctx context.Context) {
	t := time.NewTicker(n.cfg.Tick)
	defer t.Stop()
	var lastRefresh, lastBackstop time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n.pingDue(now)
			// A failed liveness write is tried again on the next tick, so
			// a node back from an outage renews before others judge it.
			if now.Sub(lastRefresh) >= n.cfg.PresenceTTL/3 || n.troubledSince(lastRefresh) {
				n.refresh(ctx, false)
				lastRefresh = now
			}
			n.reap(ctx, now)
			n.checkWindows()
			if now.Sub(lastBackstop) >= n.cfg.PresenceTTL {
				n.presenceBackstop(ctx, now)
				lastBackstop = now
			}
		}
	}
}

// Ready is nil while the node's bus delivers.
func (n *Node) Ready(context.Context) error { return n.bus.Ready() }

// Shutdown stops accepting connections, closes the open ones with 1012
// and leaves their presence to expire through the leave grace, so a
// customer who reconnects to another node never shows offline. Clients
// that do not answer the closing handshake within a few seconds are
// dropped, so a node exits in time however its clients behave.
func (n *Node) Shutdown(ctx context.Context) error {
	n.closing.Store(true)
	for _, c := range n.snapshot() {
		c.close(closeRestarting, "server restarting")
	}
	polite, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if !n.wait(polite) {
		for _, c := range n.snapshot() {
			c.abort()
		}
		n.wait(ctx)
	}
	n.stop()
	return nil
}

// snapshot lists the open connections.
func (n *Node) snapshot() []*conn {
	n.mu.RLock()
	defer n.mu.RUnlock()
	conns := make([]*conn, 0, len(n.conns))
	for c := range n.conns {
		conns = append(conns, c)
	}
	return conns
}

// wait waits for every connection handler to end, or for ctx.
func (n *Node) wait(ctx context.Context) bool {
	done := make(chan struct{})
	go func() { n.handlers.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func (n *Node) register(c *conn) {
	c.nextPing.Store(time.Now().Add(n.cfg.PingEvery).UnixNano())
	n.mu.Lock()
	n.conns[c] = struct{}{}
	n.mu.Unlock()
	n.metrics.Connections.WithLabelValues(c.role).Inc()
}

// unregister forgets a closed connection: it leaves its rooms and
// inbox, and its presence entries keep the leave grace.
func (n *Node) unregister(c *conn) {
	for _, r := range c.topics {
		n.leaveRoom(c, r)
	}
	c.topics = nil
	if c.inbox {
		n.leaveInbox(c)
	}
	c.releasePage()
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
	n.releaseSlot(c)
	n.metrics.Connections.WithLabelValues(c.role).Dec()
}

// Overload by lateness: for lateFor after work waited longer than
// LateAfter, the node refuses new sends, so the backlog drains and what
// is admitted stays prompt.
const lateFor = 250 * time.Millisecond

// waited notes how long a piece of work waited before it ran.
func (n *Node) waited(d time.Duration) {
	if d > n.cfg.LateAfter {
		n.lateTill.Store(time.Now().Add(lateFor).UnixNano())
	}
}

// admit takes an in-flight slot for a send or a completion; false when
// the node is at its bound or running late.
func (n *Node) admit() bool {
	if time.Now().UnixNano() < n.lateTill.Load() {
		n.metrics.Overloaded.Inc()
		return false
	}
	if n.inflight.Add(1) > int64(n.cfg.MaxInflight) {
		n.inflight.Add(-1)
		n.metrics.Overloaded.Inc()
		return false
	}
	return true
}

func (n *Node) done() { n.inflight.Add(-1) }

// overloaded is the refusal past the bound: try again after a short,
// spread-out pause (clients resend with the same id, so nothing doubles).
func (n *Node) overloaded() frameError {
	return frameError{Code: codeOverloaded, Message: "the service is busy; try again in a moment",
		RetryAfterMS: 100 + rand.Int64N(200)}
}

// tooManyConns is the close reason of a connection past its
// credential's bound.
const tooManyConns = "too many open connections; close another tab or window first"

// errTooManyTabs refuses an agent's join past the room's bound.
var errTooManyTabs = frameError{Code: codeRateLimited, Message: "this room is open in too many of your tabs; close one first"}

// claim takes a customer connection's slot: one customer session may hold
// only so many connections on this node, so one link cannot pin the
// node's memory.
func (n *Node) claim(c *conn) bool {
	if c.agentID != "" {
		return true
	}
	key := "c:" + c.claims.SessionID
	if !n.take(key, n.cfg.MaxConnsPerLink) {
		return false
	}
	c.slot = key
	return true
}

// releaseSlot gives a customer connection's slot back.
func (n *Node) releaseSlot(c *conn) {
	if c.slot != "" {
		n.give(c.slot)
	}
}

// agentRoomSlot is the slot of an agent's connection joined to a room.
func agentRoomSlot(agentID, roomID string) string { return "a:" + agentID + ":" + roomID }

// take counts one more under key, unless limit are there already.
func (n *Node) take(key string, limit int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.slots[key] >= limit {
		return false
	}
	n.slots[key]++
	return true
}

// giveSlot gives back a slot if there is one ("" is none).
func (n *Node) giveSlot(key string) {
	if key != "" {
		n.give(key)
	}
}

func (n *Node) give(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.slots[key]--; n.slots[key] <= 0 {
		delete(n.slots, key)
	}
}

func entryKey(connID, roomID string) string { return connID + "|" + roomID }

// presenceJoin tracks a connection in a room at once and tells the other
// nodes, so agents elsewhere see a customer online within the second.
func (n *Node) presenceJoin(c *conn, roomID string) {
	e := c.entry(roomID)
	now := time.Now()
	n.mu.Lock()
	n.entries[entryKey(c.id, roomID)] = &heldEntry{conn: e, at: now}
	n.mu.Unlock()
	n.presMu.Lock()
	err := n.pres.Refresh(n.ctx, n.id, []presence.Conn{e}, now.Add(n.entryLife()))
	n.presMu.Unlock()
	n.notePresence(err, "presence join")
	n.hint(roomID, 0)
}

// presenceLeave starts an entry's leave grace.
func (n *Node) presenceLeave(c *conn, roomID string) {
	key := entryKey(c.id, roomID)
	if n.killed.Load() {
		return
	}
	n.mu.Lock()
	e, ok := n.entries[key]
	delete(n.entries, key)
	n.mu.Unlock()
	if !ok {
		return
	}
	n.presMu.Lock()
	err := n.pres.Leave(n.ctx, []presence.Conn{e.conn}, time.Now().Add(n.cfg.LeaveGrace))
	n.presMu.Unlock()
	n.notePresence(err, "presence leave")
	// Every node's room reads again when the grace has run out.
	n.hint(roomID, n.cfg.LeaveGrace)
}

// hint asks every node's room to re-read presence now and, with after,
// once more when that much time has passed.
func (n *Node) hint(roomID string, after time.Duration) {
	msg := []byte(`{"op":"presence"}`)
	if after > 0 {
		msg = fmt.Appendf(nil, `{"op":"presence","after_ms":%d}`, after.Milliseconds())
	}
	n.noteErr(n.bus.Publish(n.ctx, roomTopic(roomID), msg), "presence hint")
}

// refresh renews every local presence entry in one batch.
// heldEntry is a presence entry of this node and when it was last written.
type heldEntry struct {
	conn presence.Conn
	at   time.Time
}

// entryLife is how long an entry lives without being written again. An
// open connection's entry is kept present by its node's liveness (Alive
// every TTL/3, reaped once it runs out), so entries need only a long
// life of their own: they are written again a few at a time, not all of
// them every TTL/3.
func (n *Node) entryLife() time.Duration { return 60 * n.cfg.PresenceTTL }

// maxRewrite bounds the entries written again in one tick, so a crowd
// that connected at once is spread over the following ticks.
const maxRewrite = 1000

// refresh renews the node's liveness and writes again the entries due
// (all of them with all set: after a resubscribe, Redis may have lost
// them), in one batch.
func (n *Node) refresh(ctx context.Context, all bool) {
	start := time.Now()
	n.presMu.Lock()
	defer n.presMu.Unlock()
	n.notePresence(n.pres.Alive(ctx, n.id, start.Add(n.cfg.PresenceTTL)), "presence liveness")
	due := n.dueEntries(start, all)
	if len(due) > 0 {
		n.notePresence(n.pres.Refresh(ctx, n.id, due, start.Add(n.entryLife())), "presence refresh")
	}
	n.metrics.PresenceTook.Observe(time.Since(start).Seconds())
}

// dueEntries lists the entries to write again and marks them written.
func (n *Node) dueEntries(now time.Time, all bool) []presence.Conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	var due []presence.Conn
	for _, e := range n.entries {
		if all || (now.Sub(e.at) >= n.entryLife()/3 && len(due) < maxRewrite) {
			e.at = now
			due = append(due, e.conn)
		}
	}
	return due
}

// reap claims nodes whose liveness ran out and removes their presence
// entries; the rooms that lost one hear it on the bus, on every node.
// Only a node that has reached Redis for a whole TTL judges others: after
// an outage they were cut off as it was, and get a TTL to renew.
func (n *Node) reap(ctx context.Context, now time.Time) {
	if n.troubledSince(now.Add(-n.cfg.PresenceTTL)) {
		return
	}
	changed, err := n.pres.Reap(ctx, now)
	n.notePresence(err, "presence reap")
	for _, id := range changed { // what was reaped before a failure, too
		n.hint(id, 0)
	}
}

// checkWindows asks rooms whose session ended with an access window to
// check it: when it runs out, customers are closed with 4010.
func (n *Node) checkWindows() {
	for _, r := range n.liveRooms(func(r *room) bool { return r.windowed.Load() }) {
		r.post(checkMsg{what: "access"})
	}
}

// presenceBackstop re-reads, in one batch, the rooms showing a customer
// online: a hint lost with a pub/sub message must not leave a customer
// online forever. Rooms showing nobody learn of arrivals from hints, and
// a room with a customer connected to this node is online for sure.
func (n *Node) presenceBackstop(ctx context.Context, now time.Time) {
	list := n.liveRooms(func(r *room) bool { return r.customerOnline.Load() && r.localCustomers.Load() == 0 })
	if len(list) == 0 {
		return
	}
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

// liveRooms lists the live rooms that match.
func (n *Node) liveRooms(match func(*room) bool) []*room {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []*room
	for _, r := range n.rooms {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// notePresence notes a presence call's error and when it happened.
func (n *Node) notePresence(err error, what string) {
	if err != nil {
		n.troubled.Store(time.Now().UnixNano())
	}
	n.noteErr(err, what)
}

// troubledSince reports whether a presence call failed after t.
func (n *Node) troubledSince(t time.Time) bool { return n.troubled.Load() > t.UnixNano() }

// noteErr counts a backend failure and logs it, at most once per kind
// every logEvery: while Redis is away the node's loops fail each second,
// and one line per kind says as much as sixty.
func (n *Node) noteErr(err error, what string) {
	if err == nil {
		return
	}
	n.metrics.RedisErrors.Inc()
	if held, ok := n.logs.allow(what, time.Now()); ok {
		n.log.Warn().Err(err).Int("suppressed", held).Msg(what + " failed")
	}
}

const logEvery = 10 * time.Second

// logLimiter lets one line per kind through every logEvery and counts
// the rest.
type logLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

// allow reports whether a line of this kind may be written now, and how
// many were held back since the last one.
func (l *logLimiter) allow(kind string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last, l.held = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := l.last[kind]; ok && now.Sub(t) < logEvery {
		l.held[kind]++
		return 0, false
	}
	held := l.held[kind]
	l.last[kind], l.held[kind] = now, 0
	return held, true
}

// pingDue drops the connections whose last ping went unanswered past
// PongWait (nobody is there to hear a close frame), and pings those whose
// interval is up. A ping waits for its pong in a short goroutine with no
// timer of its own: this tick is its timeout, so an idle connection costs
// little more than the ping's write.
func (n *Node) pingDue(now time.Time) {
	n.mu.RLock()
	var due, dead []*conn
	for c := range n.conns {
		switch sent := c.pingAt.Load(); {
		case sent > c.pongAt.Load() && now.UnixNano()-sent > int64(n.cfg.PongWait):
			dead = append(dead, c)
		case c.nextPing.Load() <= now.UnixNano():
			c.nextPing.Store(now.Add(n.cfg.PingEvery).UnixNano())
			c.pingAt.Store(now.UnixNano())
			due = append(due, c)
		}
	}
	n.mu.RUnlock()
	for _, c := range dead {
		c.abort()
	}
	for _, c := range due {
		c.pings++
		go n.ping(c, c.pings%n.cfg.RecheckEvery == 0)
	}
}

// A ping's wait needs no context of its own: the ticker aborts a
// connection whose pong is late, and that ends the wait. (One derived
// from the connection's would cost every ping a registration with it.)
func (n *Node) ping(c *conn, recheck bool) {
	if c.ws.Ping(context.Background()) == nil && recheck {
		n.recheck(c)
	}
}

// Deliver routes bus traffic: room topics to their room goroutine,
// inbox topics straight to the agent's connections.
func (n *Node) Deliver(topic string, msg []byte) {
	if id, ok := topicRoom(topic); ok {
		n.post(id, busMsg{payload: msg, at: time.Now()})
		return
	}
	if topic == agentsTopic {
		n.agentChanged(msg)
		return
	}
	agentID, ok := inboxAgent(topic)
	if !ok {
		return
	}
	n.mu.RLock()
	list := make([]*conn, 0, len(n.inboxes[agentID]))
	for c := range n.inboxes[agentID] {
		list = append(list, c)
	}
	n.mu.RUnlock()
	for _, c := range list {
		c.send(msg)
	}
}

// Resync asks every live room to catch up from the log, and renews
// presence at once: a Redis restart may have lost the entries.
func (n *Node) Resync() {
	go n.refresh(n.ctx, true)
	n.mu.RLock()
	ids := make([]string, 0, len(n.rooms))
	for id := range n.rooms {
		ids = append(ids, id)
	}
	n.mu.RUnlock()
	for _, id := range ids {
		n.post(id, resyncMsg{})
	}
}

func (n *Node) post(id string, msg any) {
	n.mu.RLock()
	r := n.rooms[id]
	n.mu.RUnlock()
	if r != nil {
		r.post(msg)
	}
}

func (n *Node) newConnID() string {
	return fmt.Sprintf("%s.%d", n.id, n.seq.Add(1))
}

// kill stops the node as a crash would: no closing handshakes and no
// presence leaves, so other nodes must notice through expiry. Tests
// use it.
func (n *Node) kill() {
	n.killed.Store(true)
	n.stop()
	for _, c := range n.snapshot() {
		c.abort()
	}
}
