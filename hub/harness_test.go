package hub

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

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
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
	mem     *Backend // the memory backend every node shares
	outbox  notify.Outbox
	clock   *clock
	cfg     Config
	nodes   []*testNode
	alex    *rooms.Agent
	blake   *rooms.Agent
	tokens  map[string]string
	team    *rooms.Team
	// dropPublish loses the memory store's publishes, as a lost pub/sub
	// message would be.
	dropPublish atomic.Bool
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
	node   *Node
	svc    *rooms.Service
	srv    *httptest.Server
	rdb    redis.UniversalClient
	cancel context.CancelFunc
}

// fast are timings short enough for tests, in the ratios of the defaults.
func fast() Config {
	// LateAfter: a race-instrumented test on a busy machine must not be
	// refused for a scheduling hiccup (the lateness test uses this value).
	return Config{PresenceTTL: 2 * time.Second, LeaveGrace: 600 * time.Millisecond,
		PingEvery: time.Second, PongWait: 500 * time.Millisecond, Tick: 100 * time.Millisecond,
		LateAfter: 500 * time.Millisecond}
}

func newCluster(t testing.TB, backend string, n int, cfg Config) *cluster {
	t.Helper()
	return newClusterWith(t, backend, n, cfg, nil)
}

// newClusterWith is newCluster with the nodes' service settings adjusted.
func newClusterWith(t testing.TB, backend string, n int, cfg Config, svcCfg func(*rooms.Config)) *cluster {
	t.Helper()
	return newClusterOn(t, backend, nil, n, cfg, svcCfg)
}

// newClusterOn is newClusterWith on a Redis topology (topo nil: one
// server started for the test).
func newClusterOn(t testing.TB, backend string, topo *redisTopo, n int, cfg Config, svcCfg func(*rooms.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, backend: backend, clock: &clock{}, cfg: cfg, tokens: map[string]string{}, svcCfg: svcCfg, topo: topo}
	if backend == "redis" {
		if topo == nil {
			c.redis = redistest.Start(t)
		}
		c.prefix = rooms.KeyPrefix
		c.outbox = c.redisBackend(c.client()).Outbox
	} else {
		c.mem = MemoryBackend()
		store := c.mem.Store.(*memstore.Store)
		publish := store.Published
		store.Published = func(id string, evs []rooms.Event) {
			if !c.dropPublish.Load() {
				publish(id, evs)
			}
		}
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
func (c *cluster) redisBackend(rdb redis.UniversalClient) *Backend {
	var topo redisTopo
	if c.topo != nil {
		topo = *c.topo
	}
	return RedisBackend(rdb, RedisBackendOptions{Prefix: c.prefix, Sharded: topo.sharded, MinReplicas: topo.replicas,
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
	tn.svc = rooms.NewService(b.Store, notify.Mux{Email: c.outbox, SMS: c.outbox}, svcCfg, zerolog.Nop())
	cfg := c.cfg
	cfg.Service, cfg.Node, cfg.Metrics = tn.svc, nodeID, NewMetrics()
	tn.node = b.Node(cfg)
	tn.node.bus = hintLosingBus{Bus: tn.node.bus, drop: &c.dropHints}
	srv := api.New(tn.svc, c.outbox, api.Options{PublicURL: "http://cohub.test", Live: tn.node, Ready: tn.node.Ready}, zerolog.Nop())
	cfg.Metrics.Register(srv.Registry())
	tn.srv = httptest.NewServer(srv.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	tn.cancel = cancel
	tn.node.Start(ctx)
	c.t.Cleanup(func() {
		cancel()
		tn.node.kill()
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

// wsURL is a node's /ws with a query.
func (tn *testNode) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(tn.srv.URL, "http") + "/ws?" + query
}

// client is a test WebSocket client that records every frame it gets.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	mu     sync.Mutex
	frames []frame
	used   []bool
	notify chan struct{}
	closed chan struct{}
	status websocket.StatusCode
	ref    int
	// pauseRef: once the reply with this ref is read, the reader stops
	// until gate is closed (see pause and resume).
	pauseRef string
	gate     chan struct{}
}

// frame is one server frame as a generic map plus its raw bytes.
type frame struct {
	Op     string          `json:"op"`
	Ref    string          `json:"ref"`
	Status string          `json:"status"`
	Topic  string          `json:"topic"`
	Seq    int64           `json:"seq"`
	Data   json.RawMessage `json:"data"`
	raw    string
}

func (f frame) data() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(f.Data, &m)
	return m
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
	ws, resp, err := websocket.Dial(ctx, tn.wsURL(query), &websocket.DialOptions{
		Subprotocols: []string{Subprotocol}, HTTPHeader: header, HTTPClient: hc,
	})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(1 << 20)
	c := &client{t: t, ws: ws, notify: make(chan struct{}, 1), closed: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { _ = ws.CloseNow() })
	return c, resp, nil
}

func (c *client) read() {
	defer close(c.closed)
	for {
		_, msg, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.status = websocket.CloseStatus(err)
			c.mu.Unlock()
			return
		}
		var gate chan struct{}
		c.mu.Lock()
		for _, line := range bytes.Split(msg, []byte("\n")) {
			var f frame
			if json.Unmarshal(line, &f) == nil {
				f.raw = string(line)
				c.frames = append(c.frames, f)
				c.used = append(c.used, false)
				if c.pauseRef != "" && f.Ref == c.pauseRef {
					gate, c.pauseRef = c.gate, ""
				}
			}
		}
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
		if gate != nil {
			<-gate
		}
	}
}

// pause stops reading: the client neither drains frames nor answers
// pings, like a stalled reader or a silently dead network. A reader
// blocked in Read would still answer pings, so it stops right after
// reading the reply to a ping of its own.
func (c *client) pause() {
	c.t.Helper()
	c.mu.Lock()
	c.ref++
	ref := "pause" + itoa(c.ref)
	c.gate, c.pauseRef = make(chan struct{}), ref
	c.mu.Unlock()
	c.send(map[string]any{"op": "ping", "ref": ref})
	c.await("reply "+ref, func(f frame) bool { return f.Op == "reply" && f.Ref == ref })
}

// resume reads again.
func (c *client) resume() {
	c.mu.Lock()
	close(c.gate)
	c.mu.Unlock()
}

// send writes one frame.
func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
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

// within is await with a limit, reporting whether the frame came.
func (c *client) within(d time.Duration, match func(frame) bool) (frame, bool) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		if f, ok := c.take(match); ok {
			return f, true
		}
		select {
		case <-c.notify:
		case <-c.closed:
			return c.take(match) // what arrived before the close
		case <-deadline.C:
			return frame{}, false
		}
	}
}

// take marks and returns the first unused matching frame.
func (c *client) take(match func(frame) bool) (frame, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.frames {
		if !c.used[i] && match(f) {
			c.used[i] = true
			return f, true
		}
	}
	return frame{}, false
}

// all returns every frame received so far that matches.
func (c *client) all(match func(frame) bool) []frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []frame
	for _, f := range c.frames {
		if match(f) {
			out = append(out, f)
		}
	}
	return out
}

func (c *client) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, f := range c.frames {
		line := f.raw
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
	case <-c.closed:
	case <-time.After(waitLimit):
		c.t.Fatalf("connection not closed; %d frames", len(c.all(func(frame) bool { return true })))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
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
	cl.ok(map[string]any{"op": "join", "topic": roomTopic(id)})
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
	l.topic = roomTopic(l.id)
	l.agent = c.agent(c.nodes[agentNode], l.id)
	l.cust = c.customer(c.nodes[custNode], l.id, l.link)
	l.agent.await("online", isStatus(l.topic, online(true)))
	return l
}

// customer dials a node with the link and joins the room.
func (c *cluster) customer(tn *testNode, id, link string) *client {
	cl := tn.dial(c.t, "link="+link)
	cl.ok(map[string]any{"op": "join", "topic": roomTopic(id)})
	return cl
}
