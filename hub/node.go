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
	"github.com/cohub/cohub/internal/workers"
	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// Config wires a node.
type Config struct {
	// The domain's concerns the hub serves: rooms and their messages, the
	// customer's gates, agents' sign-in. The node is their domain's
	// rooms.Listener and rooms.Presence (the wiring tells the domain).
	Sessions *rooms.SessionService
	Gates    *rooms.GateService
	Accounts *rooms.AccountService
	// Tickets takes the one-use tickets that open sockets
	// (POST /api/ws/ticket issues them).
	Tickets  *rooms.TicketService
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
	// URLCredentials accepts, besides tickets, the credentials that went
	// in the socket's URL before them (access_token, link,
	// customer_token), for clients not yet moved to tickets. Off by
	// default: URLs reach proxies' logs and browsers' histories.
	URLCredentials bool
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
	cfg      Config
	id       string
	sessions *rooms.SessionService
	gates    *rooms.GateService
	accounts *rooms.AccountService
	tickets  *rooms.TicketService
	store    rooms.RoomReader
	bus      bus.Bus
	pres     presence.Tracker
	metrics  *Metrics
	log      zerolog.Logger

	seq atomic.Uint64
	// windowedRooms counts the rooms checkWindows looks at
	windowedRooms atomic.Int64
	inflight      atomic.Int64 // sends and completions waiting on the backend
	troubled      atomic.Int64 // unix ns of the node's last failed presence call
	// framesSeen: a client frame came in since the last tick (pingDue)
	framesSeen atomic.Bool
	lateTill   atomic.Int64 // unix ns: until then the node counts as running late
	closing    atomic.Bool
	killed     atomic.Bool
	ctx        context.Context
	stop       context.CancelFunc
	handlers   sync.WaitGroup
	// ops runs each connection's op runner on a kept goroutine: a send
	// goes deep into the store's client, and a new goroutine would grow
	// its stack on the way every time.
	ops *workers.Pool

	mu      sync.RWMutex
	conns   map[*conn]struct{}
	slots   map[string]int // open connections per customer session and per agent
	rooms   map[string]*room
	turns   []map[string]*room // the live rooms by backstop turn
	turn    int                // the next room's turn: rooms get them in rotation
	pings   *pingWheel
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
		cfg: cfg, id: cfg.Node, sessions: cfg.Sessions, gates: cfg.Gates, accounts: cfg.Accounts, tickets: cfg.Tickets,
		store: cfg.Sessions.Store(), bus: cfg.Bus,
		pres: cfg.Presence, metrics: cfg.Metrics, log: cfg.Log.With().Str("node", cfg.Node).Logger(),
		ctx: ctx, stop: stop, pings: newPingWheel(cfg.Tick, time.Now()), ops: workers.New(opWorkerIdle),
		conns: map[*conn]struct{}{}, rooms: map[string]*room{}, slots: map[string]int{},
		inboxes: map[string]map[*conn]struct{}{}, entries: map[string]*heldEntry{},
	}
	n.turns = make([]map[string]*room, backstopTurns(cfg))
	for i := range n.turns {
		n.turns[i] = map[string]*room{}
	}
	return n
}

// opWorkerIdle is how long a kept op goroutine waits for work before it
// ends.
const opWorkerIdle = 10 * time.Second

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
	var lastRefresh time.Time
	for tick := 0; ; tick = (tick + 1) % len(n.turns) {
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
			n.presenceBackstop(ctx, now, tick)
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
		c.close(CloseRestarting, "server restarting")
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
	// The first ping comes at a random point of the interval's second
	// half: connections that open together (a node's restart, a deploy)
	// would otherwise be pinged together for as long as they live.
	half := n.cfg.PingEvery / 2
	next := time.Now().Add(half + rand.N(half+1)).UnixNano()
	c.nextPing.Store(next)
	n.mu.Lock()
	n.conns[c] = struct{}{}
	n.mu.Unlock()
	n.pings.file(c, next)
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
	n.pings.drop(c)
	n.releaseSlot(c)
	n.metrics.Connections.WithLabelValues(c.role).Dec()
}

// pingDue looks at the connections due on this tick: it drops those
// whose last ping went unanswered past PongWait (nobody is there to hear
// a close frame) and pings those whose interval is up. A ping waits for
// its pong in a short goroutine with no timer of its own: the tick of
// its deadline is its timeout, so an idle connection costs little more
// than the ping's write.
func (n *Node) pingDue(now time.Time) {
	var due []pingJob
	var dead []*conn
	t := now.UnixNano()
	for _, c := range n.pings.take(t) {
		sent, pong, next := c.pingAt.Load(), c.pongAt.Load(), c.nextPing.Load()
		switch {
		case sent > pong && t-sent > int64(n.cfg.PongWait):
			dead = append(dead, c)
			n.pings.file(c, t+int64(n.cfg.Tick)) // until it is gone
		case next <= t:
			c.nextPing.Store(t + int64(n.cfg.PingEvery))
			c.pings++
			c.pingQueued = t
			due = append(due, pingJob{c, c.pings%n.cfg.RecheckEvery == 0})
			// Its deadline, a tick late at most: a paced ping goes out
			// within the tick.
			n.pings.file(c, t+int64(n.cfg.Tick+n.cfg.PongWait)+1)
		case sent < c.pingQueued:
			n.pings.file(c, t+int64(n.cfg.Tick)) // queued, not yet out
		case sent > pong:
			n.pings.file(c, sent+int64(n.cfg.PongWait)+1)
		default:
			n.pings.file(c, next)
		}
	}
	for _, c := range dead {
		c.abort()
	}
	talking := n.framesSeen.Swap(false)
	switch {
	case len(due) == 0:
	case talking:
		go n.pingPaced(due)
	default:
		// No messages to delay: one burst costs the node less than ten.
		n.pingNow(due)
	}
}

type pingJob struct {
	c       *conn
	recheck bool
}

// pingNow pings due at once, each waiting for its pong on its own.
func (n *Node) pingNow(due []pingJob) {
	for _, p := range due {
		p.c.pingAt.Store(time.Now().UnixNano())
		go n.ping(p.c, p.recheck)
	}
}

// pingSteps is how many groups a tick's pings go out in.
const pingSteps = 10

// pingPaced spreads a tick's pings over the tick when clients are
// talking: a burst of pings (and of the credential checks every sixth
// one brings) is a burst of latency for the messages beside it. At 1,000
// msg/s the p99 was 3.7–7.0 ms with the pings of a tick together and
// 2.5–3.0 ms with them spread; idle, the spread pings cost a third more
// CPU than one burst (docs/BENCHMARKS.md).
func (n *Node) pingPaced(due []pingJob) {
	per := (len(due) + pingSteps - 1) / pingSteps
	for i := 0; i < len(due); i += per {
		if i > 0 {
			select {
			case <-time.After(n.cfg.Tick / pingSteps):
			case <-n.ctx.Done():
				return
			}
		}
		n.pingNow(due[i:min(i+per, len(due))])
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
