package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohub/cohub/hub"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

const testSecret = "hub-test-secret-0123456789"

// clock is a settable clock for access windows; presence and pings run
// on real time with short test settings.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// cluster is several Cohub nodes sharing one backend, each behind its
// own HTTP server, as behind a load balancer.
type cluster struct {
	t       testing.TB
	backend string
	redis   *redistest.Server
	prefix  string
	mem     *app.Backend // the memory backend every node shares
	outbox  notify.Outbox
	clock   *clock
	cfg     hub.Config
	nodes   []*testNode
	alex    *rooms.Agent
	blake   *rooms.Agent
	tokens  map[string]string
	team    *rooms.Team
	// dropHints loses the nodes' presence hints on the bus.
	dropHints atomic.Bool
	// svcCfg, when set, adjusts every node's service settings.
	svcCfg func(*rooms.Config)
	// topo, when set, is the Redis the nodes use instead of one server.
	topo *redisTopo
}

// redisTopo is a Redis topology other than one server: Sentinel, Cluster.
type redisTopo struct {
	// dial connects a node (named, so tests can find its connections).
	dial     func(name string) redis.UniversalClient
	sharded  bool
	replicas int // a commit waits for this many replicas
}

type testNode struct {
	node    *hub.Node
	svc     *rooms.Service
	metrics *hub.Metrics
	backend *app.Backend
	srv     *httptest.Server
	rdb     redis.UniversalClient
	cancel  context.CancelFunc
}

// fast are timings short enough for tests, in the ratios of the defaults.
func fast() hub.Config {
	// LateAfter: a race-instrumented test on a busy machine must not be
	// refused for a scheduling hiccup (the lateness test uses this value).
	return hub.Config{PresenceTTL: 2 * time.Second, LeaveGrace: 600 * time.Millisecond,
		PingEvery: time.Second, PongWait: 500 * time.Millisecond, Tick: 100 * time.Millisecond,
		LateAfter: 500 * time.Millisecond}
}

func newCluster(t testing.TB, backend string, n int, cfg hub.Config) *cluster {
	t.Helper()
	return newClusterWith(t, backend, n, cfg, nil)
}

// newClusterWith is newCluster with the nodes' service settings adjusted.
func newClusterWith(t testing.TB, backend string, n int, cfg hub.Config, svcCfg func(*rooms.Config)) *cluster {
	t.Helper()
	return newClusterOn(t, backend, nil, n, cfg, svcCfg)
}

// newClusterOn is newClusterWith on a Redis topology (topo nil: one
// server started for the test).
func newClusterOn(t testing.TB, backend string, topo *redisTopo, n int, cfg hub.Config, svcCfg func(*rooms.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, backend: backend, clock: &clock{}, cfg: cfg, tokens: map[string]string{}, svcCfg: svcCfg, topo: topo}
	if backend == "redis" {
		if topo == nil {
			c.redis = redistest.Start(t)
		}
		c.prefix = rooms.KeyPrefix
		c.outbox = c.redisBackend(c.client()).Outbox
	} else {
		c.mem = app.MemoryBackend()
		c.outbox = c.mem.Outbox
	}
	for range n {
		c.addNode()
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
func (c *cluster) redisBackend(rdb redis.UniversalClient) *app.Backend {
	var topo redisTopo
	if c.topo != nil {
		topo = *c.topo
	}
	return app.RedisBackend(rdb, app.RedisBackendOptions{Prefix: c.prefix, Sharded: topo.sharded, MinReplicas: topo.replicas,
		ProbeEvery: 500 * time.Millisecond})
}

func (c *cluster) addNode() *testNode {
	tn := &testNode{}
	nodeID := "node" + string(rune('1'+len(c.nodes)))
	b := c.mem
	if c.backend == "redis" {
		tn.rdb = c.clientNamed(nodeID)
		b = c.redisBackend(tn.rdb)
	}
	svcCfg := rooms.Config{
		Secret: []byte(testSecret), PublicURL: "http://cohub.test", Now: c.clock.Now, BcryptCost: bcrypt.MinCost,
	}
	if c.svcCfg != nil {
		c.svcCfg(&svcCfg)
	}
	cfg := c.cfg
	cfg.Node = nodeID
	a := app.New(b, app.Config{Rooms: svcCfg, Hub: cfg, API: api.Options{PublicURL: "http://cohub.test"},
		Sender: notify.Mux{Email: c.outbox, SMS: c.outbox}, Log: zerolog.Nop()})
	tn.svc, tn.node, tn.metrics, tn.backend = a.Service, a.Node, a.Metrics, b
	hub.WrapBus(tn.node, func(b bus.Bus) bus.Bus { return hintLosingBus{Bus: b, drop: &c.dropHints} })
	tn.srv = httptest.NewServer(a.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	tn.cancel = cancel
	tn.node.Start(ctx)
	c.t.Cleanup(func() {
		cancel()
		hub.Kill(tn.node)
		tn.srv.Close()
	})
	c.nodes = append(c.nodes, tn)
	return tn
}

// gate makes the Sales team ask for a PIN and consent.
func (c *cluster) gate() {
	c.t.Helper()
	c.team.Settings.CustomerAuthentication = "pin"
	c.team.Settings.Consent = rooms.ConsentSetting{Required: true, Text: "I agree to share my documents."}
	_, err := c.svc().Accounts.UpdateTeam(context.Background(), c.team)
	c.must(err)
}

// client is a new connection pool to the cluster's Redis.
func (c *cluster) client() redis.UniversalClient { return c.clientNamed("") }

func (c *cluster) clientNamed(name string) redis.UniversalClient {
	if c.topo != nil {
		rdb := c.topo.dial(name)
		c.t.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}
	rdb := redis.NewClient(&redis.Options{Addr: c.redis.Addr})
	c.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func (c *cluster) svc() *rooms.Service { return c.nodes[0].svc }

func (c *cluster) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) seed() {
	ctx := context.Background()
	team, err := c.svc().Accounts.CreateTeam(ctx, "Sales", nil)
	c.must(err)
	c.team = team
	for _, name := range []string{"alex", "blake"} {
		a, err := c.svc().Accounts.CreateAgent(ctx, rooms.AgentInput{Agent: rooms.Agent{
			Email: name + "@cohub.test", Name: name, Role: rooms.RoleAgent, TeamID: team.ID,
		}, Password: "correct-horse-battery"})
		c.must(err)
		tok, _, err := c.svc().Accounts.Login(ctx, a.Email, "correct-horse-battery", "127.0.0.1")
		c.must(err)
		c.tokens[name] = tok
		if name == "alex" {
			c.alex = a
		} else {
			c.blake = a
		}
	}
}

// session starts a session of alex's and returns its id and a link token.
func (c *cluster) session(req rooms.CreateRequest) (string, string) {
	ctx := context.Background()
	if req.Mode == "" {
		req.Mode = "start"
	}
	if req.Customer.Email == "" && req.Customer.Phone == "" {
		req.Customer = rooms.Customer{Name: "Casey", Email: "casey@example.com"}
	}
	s, err := c.svc().Sessions.Create(ctx, c.alex, req)
	c.must(err)
	if s.State != rooms.StateActive {
		return s.ID, ""
	}
	l, err := c.svc().Sessions.NewLink(ctx, c.alex, s.ID)
	c.must(err)
	return s.ID, l.Token
}

// client is a test connection (internal/wsclient) that records every
// frame it gets, with the harness's helpers: each fails the test rather
// than returning an error.
type client struct {
	*wsclient.Conn
	t   testing.TB
	mu  sync.Mutex
	ref int
}

// frame is one server frame; raw is the frame as it came.
type frame struct {
	wsclient.Frame
	raw string
}

func (f frame) data() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(f.Data, &m)
	return m
}

// matching is match on the client's frames.
func matching(match func(frame) bool) func(wsclient.Frame) bool {
	return func(f wsclient.Frame) bool { return match(frame{Frame: f, raw: f.Raw}) }
}

func (tn *testNode) dial(t testing.TB, query string) *client {
	t.Helper()
	c, resp, err := tn.tryDial(t, query, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", strings.SplitN(query, "=", 2)[0], err, status)
	}
	return c
}

func (tn *testNode) tryDial(t testing.TB, query string, header http.Header) (*client, *http.Response, error) {
	return tn.dialWith(t, query, header, nil)
}

func (tn *testNode) dialWith(t testing.TB, query string, header http.Header, hc *http.Client) (*client, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, tn.srv.URL, query, &wsclient.Options{Header: header, HTTPClient: hc, Record: true})
	if err != nil {
		return nil, wsclient.Response(err), err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &client{Conn: conn, t: t}, nil, nil
}

// pause stops reading: the client neither drains frames nor answers
// pings, like a stalled reader or a silently dead network (see
// wsclient's Stall).
func (c *client) pause() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.Stall(ctx); err != nil {
		c.t.Fatalf("pause: %v; got %s", err, c.dump())
	}
}

// resume reads again.
func (c *client) resume() { c.Resume() }

// send writes one frame.
func (c *client) send(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// call sends an op with a fresh ref and returns its reply.
func (c *client) call(op map[string]any) frame {
	c.t.Helper()
	c.mu.Lock()
	c.ref++
	ref := c.ref
	c.mu.Unlock()
	op["ref"] = strings.Repeat("r", 1) + itoa(ref)
	c.send(op)
	return c.await("reply "+op["ref"].(string), func(f frame) bool { return f.Op == "reply" && f.Ref == op["ref"] })
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// ok calls and fails the test unless the reply is ok.
// rejoin joins a topic from since as a client library does: it follows
// the replay's pages and returns the join's reply.
func (c *client) rejoin(topic string, since int64, epoch any) map[string]any {
	c.t.Helper()
	for pages := 0; ; pages++ {
		d := c.ok(map[string]any{"op": "join", "topic": topic, "since": since, "epoch": epoch})
		if d["more"] != true {
			return d
		}
		if pages > 1000 {
			c.t.Fatalf("a replay of over 1000 pages")
		}
		since = int64(d["next"].(float64))
	}
}

func (c *client) ok(op map[string]any) map[string]any {
	c.t.Helper()
	r := c.call(op)
	if r.Status != "ok" {
		c.t.Fatalf("%v: %s", op["op"], r.raw)
	}
	return r.data()
}

const waitLimit = 10 * time.Second

// await returns the first frame not yet taken that matches, waiting for
// it to arrive.
func (c *client) await(what string, match func(frame) bool) frame {
	c.t.Helper()
	f, ok := c.within(waitLimit, match)
	if !ok {
		c.t.Fatalf("no %s within %s; got %s", what, waitLimit, c.dump())
	}
	return f
}

// within is await with a limit, reporting whether the frame came (by
// then, or before the connection ended).
func (c *client) within(d time.Duration, match func(frame) bool) (frame, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	f, err := c.Take(ctx, matching(match))
	if err != nil {
		return frame{}, false
	}
	return frame{Frame: f, raw: f.Raw}, true
}

// all returns every frame received so far that matches.
func (c *client) all(match func(frame) bool) []frame {
	var out []frame
	for _, f := range c.Frames(matching(match)) {
		out = append(out, frame{Frame: f, raw: f.Raw})
	}
	return out
}

func (c *client) dump() string {
	var b strings.Builder
	for _, f := range c.Frames(nil) {
		line := f.Raw
		if len(line) > 300 {
			line = line[:300] + "…"
		}
		b.WriteString("\n  " + line)
	}
	return b.String()
}

// closeStatus waits for the server to close the connection.
func (c *client) closeStatus() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.Done():
	case <-time.After(waitLimit):
		c.t.Fatalf("connection not closed; %d frames", len(c.all(func(frame) bool { return true })))
	}
	return c.CloseStatus()
}

func isStatus(topic string, pred func(map[string]any) bool) func(frame) bool {
	return func(f frame) bool { return f.Op == "status" && f.Topic == topic && pred(f.data()) }
}

func isEvent(topic, typ string) func(frame) bool {
	return func(f frame) bool { return f.Op == "event" && f.Topic == topic && f.data()["type"] == typ }
}

func online(want bool) func(map[string]any) bool {
	return func(d map[string]any) bool { return d["online"] == want }
}

// agent dials a node as alex and joins the room.
func (c *cluster) agent(tn *testNode, id string) *client {
	cl := tn.dial(c.t, "access_token="+c.tokens["alex"])
	cl.ok(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	return cl
}

// live is a session with alex in its room on one node and the customer
// on another, online.
type live struct {
	id, link, topic string
	agent, cust     *client
}

func (c *cluster) live(agentNode, custNode int) live {
	l := live{}
	l.id, l.link = c.session(rooms.CreateRequest{})
	l.topic = bus.RoomTopic(l.id)
	l.agent = c.agent(c.nodes[agentNode], l.id)
	l.cust = c.customer(c.nodes[custNode], l.id, l.link)
	l.agent.await("online", isStatus(l.topic, online(true)))
	return l
}

// customer dials a node with the link and joins the room.
func (c *cluster) customer(tn *testNode, id, link string) *client {
	cl := tn.dial(c.t, "link="+link)
	cl.ok(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	return cl
}
