// Package livetest runs live Cohub clusters for tests: several nodes
// built by app.New on one memory or Redis backend, each behind its own
// HTTP server as behind a load balancer, seeded with a team and two
// agents, and protocol clients (internal/wsclient) that record every
// frame and fail the test rather than return an error. The hub's tests
// and the pages' browser tests (static/) run on it. It reaches the
// servers only through the public APIs of app, hub, api and rooms.
package livetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/sso"
	"github.com/cohub/cohub/webhooks"
)

// Secret signs the clusters' links (and derives their signing identity).
const Secret = "hub-test-secret-0123456789"

// Clock is a settable clock for access windows; presence and pings run
// on real time with short test settings.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the time with the advances so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Cluster is several Cohub nodes sharing one backend, each behind its
// own HTTP server, as behind a load balancer. Its org has the Sales team
// with two agents, alex and blake, signed in.
type Cluster struct {
	T       testing.TB
	backend string
	Redis   *redistest.Server // the server started for the test, if any
	Prefix  string            // the Redis key prefix
	Mem     *app.Backend      // the memory backend every node shares
	Outbox  notify.Outbox
	Clock   *Clock
	cfg     hub.Config
	Nodes   []*Node
	Alex    *rooms.Agent
	Blake   *rooms.Agent
	Tokens  map[string]string // access tokens by name: alex, blake
	Team    *rooms.Team
	// DropHints loses the nodes' presence hints on the bus.
	DropHints atomic.Bool
	opts      Options
}

// Options shape a cluster beyond its backend, size and node settings.
type Options struct {
	// Rooms, when set, adjusts every node's service settings.
	Rooms func(*rooms.Config)
	// Topology, when set, is the Redis the nodes use instead of one
	// server started for the test.
	Topology *RedisTopology
	// Stop ends a node when the test is over, after its context is
	// cancelled and before its HTTP server closes. Zero value: Shutdown,
	// bounded by stopLimit. (The hub's tests stop theirs as a crash
	// would, which only they can reach.)
	Stop func(*hub.Node)
	// Webhooks, when set, adjusts every node's webhook settings (its
	// AllowPrivate is set: receivers in tests are on loopback).
	Webhooks func(*webhooks.Options)
	// Followups, when set, adjusts every node's follow-up worker (its
	// poll is 20 ms and its clock the cluster's).
	Followups func(*followup.Options)
	// Sender, when set, wraps each node's sender (the cluster's outbox):
	// a test that must stop a node in the middle of a send puts one that
	// waits there.
	Sender func(node string, outbox notify.Sender) notify.Sender
	// SSO, when set, gives each node its OpenID provider, told the node's
	// own URL (its callback is that + /api/sso/callback).
	SSO func(nodeURL string) *sso.Provider
}

// stopLimit bounds the default Stop's Shutdown.
const stopLimit = 5 * time.Second

// RedisTopology is a Redis topology other than one server: Sentinel, Cluster.
type RedisTopology struct {
	// Dial connects a node (named, so tests can find its connections).
	Dial     func(name string) redis.UniversalClient
	Sharded  bool
	Replicas int // a commit waits for this many replicas
}

// Node is one node of a cluster, served by its own HTTP server.
type Node struct {
	Hub     *hub.Node
	Service *rooms.Service
	Metrics *hub.Metrics
	Backend *app.Backend
	Server  *httptest.Server
	App     *app.App
	rdb     redis.UniversalClient
	cancel  context.CancelFunc

	mu       sync.Mutex
	hijacked map[net.Conn]struct{} // connections the server handed to the hub
}

// Fast are timings short enough for tests, in the ratios of the defaults.
func Fast() hub.Config {
	// LateAfter: a race-instrumented test on a busy machine must not be
	// refused for a scheduling hiccup (the lateness test uses this value).
	return hub.Config{PresenceTTL: 2 * time.Second, LeaveGrace: 600 * time.Millisecond,
		PingEvery: time.Second, PongWait: 500 * time.Millisecond, Tick: 100 * time.Millisecond,
		LateAfter: 500 * time.Millisecond}
}

// Unlimited lets the tests fill rooms fast (an Options.Rooms).
func Unlimited(cfg *rooms.Config) { cfg.MessageRate, cfg.MessageBurst = 1e6, 1e6 }

// NewCluster starts n nodes with cfg's settings on a backend: "memory",
// "embedded" (on disk, in a data directory of the test's; one node,
// which Restart restarts) or "redis" (a redis-server started for the
// test).
func NewCluster(t testing.TB, backend string, n int, cfg hub.Config) *Cluster {
	t.Helper()
	return NewClusterWith(t, backend, n, cfg, Options{})
}

// NewClusterWith is NewCluster with options.
func NewClusterWith(t testing.TB, backend string, n int, cfg hub.Config, opts Options) *Cluster {
	t.Helper()
	c := &Cluster{T: t, backend: backend, Clock: &Clock{}, cfg: cfg, Tokens: map[string]string{}, opts: opts}
	if backend == "redis" {
		if opts.Topology == nil {
			c.Redis = redistest.Start(t)
		}
		c.Prefix = rooms.KeyPrefix
		c.Outbox = c.redisBackend(c.RedisClient()).Outbox
	} else if backend == "embedded" {
		c.openDisk(t.TempDir())
	} else {
		c.Mem = app.MemoryBackend()
		c.Outbox = c.Mem.Outbox
	}
	for range n {
		c.Nodes = append(c.Nodes, c.addNode(nil))
	}
	c.seed()
	return c
}

// hintLosingBus loses presence hints while drop is set, as a lost
// pub/sub message would.
type hintLosingBus struct {
	bus.Bus
	drop *atomic.Bool
}

func (b hintLosingBus) Publish(ctx context.Context, topic string, msg []byte) error {
	if b.drop.Load() && bytes.HasPrefix(msg, []byte(`{"op":"presence"`)) {
		return nil
	}
	return b.Bus.Publish(ctx, topic, msg)
}

// redisBackend is a node's backend on its own client, as each process
// has, on the cluster's topology.
func (c *Cluster) redisBackend(rdb redis.UniversalClient) *app.Backend {
	var topo RedisTopology
	if c.opts.Topology != nil {
		topo = *c.opts.Topology
	}
	return app.RedisBackend(rdb, app.RedisBackendOptions{Prefix: c.Prefix, Sharded: topo.Sharded, MinReplicas: topo.Replicas,
		ProbeEvery: 500 * time.Millisecond})
}

// addNode builds a node and serves it on ln (nil: a new loopback port).
func (c *Cluster) addNode(ln net.Listener) *Node {
	tn := &Node{hijacked: map[net.Conn]struct{}{}}
	nodeID := "node" + string(rune('1'+len(c.Nodes)))
	b := c.Mem
	if c.backend == "redis" {
		tn.rdb = c.clientNamed(nodeID)
		b = c.redisBackend(tn.rdb)
	}
	svcCfg := rooms.Config{
		Secret: []byte(Secret), PublicURL: "http://cohub.test", Now: c.Clock.Now, BcryptCost: bcrypt.MinCost,
	}
	if c.opts.Rooms != nil {
		c.opts.Rooms(&svcCfg)
	}
	cfg := c.cfg
	cfg.Node = nodeID
	// The server listens before the app is built: a provider needs the
	// node's URL to send browsers back to.
	tn.Server = httptest.NewUnstartedServer(nil)
	if ln != nil {
		_ = tn.Server.Listener.Close()
		tn.Server.Listener = ln
	}
	apiOpts := api.Options{PublicURL: "http://cohub.test"}
	if c.opts.SSO != nil {
		apiOpts.SSO = c.opts.SSO("http://" + tn.Server.Listener.Addr().String())
	}
	hooks := webhooks.Options{AllowPrivate: true}
	if c.opts.Webhooks != nil {
		c.opts.Webhooks(&hooks)
	}
	fo := followup.Options{Poll: 20 * time.Millisecond, Now: c.Clock.Now}
	if c.opts.Followups != nil {
		c.opts.Followups(&fo)
	}
	var sender notify.Sender = notify.Mux{Email: c.Outbox, SMS: c.Outbox}
	if c.opts.Sender != nil {
		sender = c.opts.Sender(nodeID, sender)
	}
	a := app.New(b, app.Config{Rooms: svcCfg, Hub: cfg, API: apiOpts, Webhooks: hooks, Followups: fo,
		Sender: sender, Log: zerolog.Nop(),
		WrapBus: func(b bus.Bus) bus.Bus { return hintLosingBus{Bus: b, drop: &c.DropHints} }})
	tn.Service, tn.Hub, tn.Metrics, tn.Backend, tn.App = a.Service, a.Node, a.Metrics, b, a
	tn.Server.Config.Handler = a.Handler()
	tn.Server.Config.ConnState = tn.track
	tn.Server.Start()
	ctx, cancel := context.WithCancel(context.Background())
	tn.cancel = cancel
	a.Start(ctx)
	stop := c.opts.Stop
	if stop == nil {
		stop = shutdown
	}
	c.T.Cleanup(func() {
		cancel()
		stop(tn.Hub)
		tn.Server.Close()
	})
	return tn
}

// shutdown is the default Stop: the node's own, bounded.
func shutdown(n *hub.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), stopLimit)
	defer cancel()
	_ = n.Shutdown(ctx)
}

// track keeps the connections the server hands over to the hub (the
// WebSockets) for DropConnections.
func (tn *Node) track(conn net.Conn, state http.ConnState) {
	if state != http.StateHijacked {
		return
	}
	tn.mu.Lock()
	tn.hijacked[conn] = struct{}{}
	tn.mu.Unlock()
}

// DropConnections cuts every WebSocket the node serves, as a network
// fault or a crash does: each end sees its connection gone, with no
// closing handshake, and the pages reconnect as after a restart.
func (tn *Node) DropConnections() {
	tn.mu.Lock()
	conns := tn.hijacked
	tn.hijacked = map[net.Conn]struct{}{}
	tn.mu.Unlock()
	for conn := range conns {
		_ = conn.Close()
	}
}

// Kill stops the node as a crash would: its loops and webhook
// deliveries end mid-flight and its server closes. The cluster's other
// nodes go on.
func (tn *Node) Kill() {
	tn.cancel()
	tn.Server.CloseClientConnections()
	tn.Server.Close()
}

// Gate makes the Sales team ask for a PIN and consent.
func (c *Cluster) Gate() {
	c.T.Helper()
	c.Team.Settings.CustomerAuthentication = "pin"
	c.Team.Settings.Consent = rooms.ConsentSetting{Required: true, Text: "I agree to share my documents."}
	_, err := c.Service().Accounts.UpdateTeam(context.Background(), c.Team)
	c.Must(err)
}

// EndAccess sets what a customer keeps of an ended session.
func (c *Cluster) EndAccess(mode string, d time.Duration) {
	ctx := context.Background()
	set, err := c.Service().Store().Settings(ctx)
	c.Must(err)
	set.EndSessionAccess = rooms.EndAccess{Mode: mode, Duration: rooms.Duration(d)}
	_, err = c.Service().Accounts.PutSettings(ctx, set)
	c.Must(err)
}

// Fill logs n messages in a room.
func (c *Cluster) Fill(id string, n int, text string) {
	c.T.Helper()
	for i := range n {
		_, err := c.Service().Sessions.PostMessage(context.Background(), id, rooms.Message{
			From: rooms.Actor{Role: "agent", ID: c.Alex.ID}, Text: fmt.Sprint(text, i), AgentsHere: true})
		c.Must(err)
	}
}

// RedisClient is a new connection pool to the cluster's Redis.
func (c *Cluster) RedisClient() redis.UniversalClient { return c.clientNamed("") }

func (c *Cluster) clientNamed(name string) redis.UniversalClient {
	if c.opts.Topology != nil {
		rdb := c.opts.Topology.Dial(name)
		c.T.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}
	rdb := redis.NewClient(&redis.Options{Addr: c.Redis.Addr})
	c.T.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Service is the first node's domain (every node's reads the same store).
func (c *Cluster) Service() *rooms.Service { return c.Nodes[0].Service }

// Must fails the test on an error.
func (c *Cluster) Must(err error) {
	c.T.Helper()
	if err != nil {
		c.T.Fatal(err)
	}
}

func (c *Cluster) seed() {
	ctx := context.Background()
	team, err := c.Service().Accounts.CreateTeam(ctx, "Sales", nil)
	c.Must(err)
	c.Team = team
	for _, name := range []string{"alex", "blake"} {
		a, err := c.Service().Accounts.CreateAgent(ctx, rooms.AgentInput{Agent: rooms.Agent{
			Email: name + "@cohub.test", Name: name, Role: rooms.RoleAgent, TeamID: team.ID,
		}, Password: "correct-horse-battery"})
		c.Must(err)
		tok, _, err := c.Service().Accounts.Login(ctx, a.Email, "correct-horse-battery", "127.0.0.1")
		c.Must(err)
		c.Tokens[name] = tok
		if name == "alex" {
			c.Alex = a
		} else {
			c.Blake = a
		}
	}
}

// Session starts a session of alex's and returns its id and a link token.
func (c *Cluster) Session(req rooms.CreateRequest) (string, string) {
	ctx := context.Background()
	if req.Mode == "" {
		req.Mode = "start"
	}
	if req.Customer.Email == "" && req.Customer.Phone == "" {
		req.Customer = rooms.Customer{Name: "Casey", Email: "casey@example.com"}
	}
	s, err := c.Service().Sessions.Create(ctx, c.Alex, req)
	c.Must(err)
	if s.State != rooms.StateActive {
		return s.ID, ""
	}
	l, err := c.Service().Sessions.NewLink(ctx, c.Alex, s.ID)
	c.Must(err)
	return s.ID, l.Token
}
