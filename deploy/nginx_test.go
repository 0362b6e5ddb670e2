package deploy

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/wsclient"
)

// balancers are the load balancers whose files deploy/ ships.
var balancers = []string{"nginx", "haproxy"}

// Rooms whose agent and customer talk through the balancer while every
// node is stopped with SIGTERM and started again, one at a time: no
// customer is ever shown offline to the agent, every acknowledged
// message reaches both once and in order, and none is logged twice.
func TestRollingRestart(t *testing.T) {
	for _, lb := range balancers {
		t.Run(lb, func(t *testing.T) { rollingRestart(t, lb) })
	}
}

func rollingRestart(t *testing.T, lb string) {
	c := newCluster(t, lb, "--trusted-proxies", "127.0.0.1")
	admin, code := login(t, nil, c.base, adminEmail, adminPassword)
	if code != 200 {
		t.Fatalf("admin login through %s: %d", lb, code)
	}
	wsBase := "ws" + strings.TrimPrefix(c.base, "http")
	type room struct {
		id            string
		agent, client *peer
	}
	tl := &timeline{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("timeline:\n" + tl.String())
		}
	})
	var rooms []room
	for i := range 3 {
		var s struct{ ID string }
		if code := call(t, nil, "POST", c.base+"/api/sessions", admin, map[string]any{"mode": "start",
			"customer": map[string]string{"name": "Casey", "email": fmt.Sprintf("casey%d@example.com", i)}}, &s, nil); code != 201 {
			t.Fatalf("start a session: %d", code)
		}
		var link struct{ URL string }
		if code := call(t, nil, "POST", c.base+"/api/sessions/"+s.ID+"/link", admin, nil, &link, nil); code != 200 {
			t.Fatalf("link: %d", code)
		}
		token := link.URL[strings.LastIndex(link.URL, "/")+1:]
		topic := "room:" + s.ID
		rooms = append(rooms, room{id: s.ID,
			agent:  newPeer(fmt.Sprintf("agent %d", i+1), wsBase, wsclient.Agent(admin), topic, true),
			client: newPeer(fmt.Sprintf("customer %d", i+1), wsBase, wsclient.Customer(token, ""), topic, false)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var peers []*peer
	for _, r := range rooms {
		r.agent.tl, r.client.tl = tl, tl
		peers = append(peers, r.agent, r.client)
	}
	for _, p := range peers {
		wg.Add(1)
		go func() { defer wg.Done(); p.run(ctx, 150*time.Millisecond) }()
	}
	defer func() { cancel(); wg.Wait() }()
	// Armed once every agent shows its customer online: a room's first
	// presence frame may still come from a read made before the customer
	// joined (a flicker at the start, in the timeline, not this test's
	// subject).
	for _, r := range rooms {
		if !r.agent.await(20*time.Second, func(s snapshot) bool { return s.seenOn && s.wasOn }) {
			t.Fatalf("%s never saw the customer online: %v", r.agent.name, r.agent.snapshot().faults)
		}
		r.agent.arm()
	}
	// Each node in turn: traffic flows, the node stops, its clients move
	// to the others, it starts again.
	for _, n := range c.nodes {
		awaitTraffic(t, peers, 5)
		start := time.Now()
		tl.add("SIGTERM %s", n.name)
		if code := n.stop(); code != 0 {
			t.Fatalf("%s exited %d after SIGTERM:\n%s", n.name, code, lastLines(n.logs(), 30))
		}
		t.Logf("%s stopped in %s", n.name, time.Since(start).Round(time.Millisecond))
		tl.add("%s exited", n.name)
		awaitTraffic(t, peers, 5)
		n.start()
		tl.add("%s started again", n.name)
	}
	awaitTraffic(t, peers, 5)
	for _, p := range peers {
		p.quiet()
	}
	for _, r := range rooms {
		checkRoom(t, c, admin, r.id, r.agent, r.client)
	}
}

// awaitTraffic waits until every peer has had n more messages answered.
func awaitTraffic(t *testing.T, peers []*peer, n int) {
	t.Helper()
	for _, p := range peers {
		had := len(p.snapshot().acked)
		if !p.await(30*time.Second, func(s snapshot) bool { return len(s.acked) >= had+n }) {
			t.Fatalf("%s: no traffic (%d answered, pending %q); faults %v", p.name, had, p.snapshot().pending, p.snapshot().faults)
		}
	}
}

// checkRoom compares what each peer holds with the room's log.
func checkRoom(t *testing.T, c *cluster, admin, id string, peers ...*peer) {
	t.Helper()
	for _, p := range peers {
		if !p.await(30*time.Second, func(s snapshot) bool { return s.pending == "" }) {
			t.Fatalf("%s: %q never answered", p.name, p.snapshot().pending)
		}
	}
	var log struct {
		Events []struct {
			Seq  int64
			Type string
			Text string
		}
	}
	if code := call(t, nil, "GET", c.base+"/api/sessions/"+id+"/events?limit=10000", admin, nil, &log, nil); code != 200 {
		t.Fatalf("events: %d", code)
	}
	last := log.Events[len(log.Events)-1].Seq
	logged, dups := map[string]int64{}, 0
	for i, e := range log.Events {
		if e.Seq != int64(i+1) {
			t.Fatalf("log of %s: seq %d at %d", id, e.Seq, i)
		}
		if e.Type != "message" {
			continue
		}
		if first, dup := logged[e.Text]; dup {
			t.Errorf("%q logged twice: seq %d and %d", e.Text, first, e.Seq)
			dups++
		}
		logged[e.Text] = e.Seq
	}
	sent := 0
	for _, p := range peers {
		if !p.await(30*time.Second, func(s snapshot) bool { return len(s.seqs) > 0 && s.seqs[len(s.seqs)-1] >= last }) {
			t.Fatalf("%s holds up to seq %d of %d", p.name, p.snapshot().seqs[len(p.snapshot().seqs)-1], last)
		}
		s := p.snapshot()
		for _, f := range s.faults {
			t.Error(f)
		}
		if want := seqRange(last); !slices.Equal(s.seqs, want) {
			t.Errorf("%s received seqs %v, want 1..%d once each, in order", p.name, s.seqs, last)
		}
		for msgID, seq := range s.acked {
			if logged[msgID] != seq {
				t.Errorf("%s: %q acknowledged as seq %d, logged as %d", p.name, msgID, seq, logged[msgID])
			}
		}
		for seq, text := range s.texts {
			if logged[text] != seq {
				t.Errorf("%s: seq %d delivered as %q", p.name, seq, text)
			}
		}
		if s.conns < 2 {
			t.Errorf("%s connected %d time(s): the restarts never moved it", p.name, s.conns)
		}
		sent += len(s.acked)
		t.Logf("%s: %d messages acknowledged, %d connections, longest wait for an answer %s",
			p.name, len(s.acked), s.conns, s.maxGap.Round(time.Millisecond))
	}
	lost := 0
	for _, p := range peers {
		for msgID := range p.snapshot().acked {
			if _, ok := logged[msgID]; !ok {
				lost++
			}
		}
	}
	t.Logf("room %s: %d messages acknowledged, %d logged, %d lost, %d logged twice", id, sent, len(logged), lost, dups)
	if sent != len(logged) || lost != 0 {
		t.Errorf("room %s: %d messages acknowledged, %d logged, %d lost", id, sent, len(logged), lost)
	}
}

func seqRange(n int64) []int64 {
	out := make([]int64, 0, n)
	for i := int64(1); i <= n; i++ {
		out = append(out, i)
	}
	return out
}

// Per-IP login limits count the client the balancer saw, not the
// balancer, only when the nodes trust it with --trusted-proxies: then a
// forged X-Forwarded-For is not believed either. Clients come from
// loopback addresses of their own (127.0.0.2, 127.0.0.3), the balancer
// from 127.0.0.1.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	for _, lb := range balancers {
		for _, trusted := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/trusted=%v", lb, trusted), func(t *testing.T) { forwardedFor(t, lb, trusted) })
		}
	}
}

func forwardedFor(t *testing.T, lb string, trusted bool) {
	var extra []string
	if trusted {
		extra = []string{"--trusted-proxies", "127.0.0.1"}
	}
	c := newCluster(t, lb, extra...)
	attacker, bystander := from("127.0.0.2"), from("127.0.0.3")
	// Each try claims another address: believed, it would dodge the limit.
	forged := func(i int) http.Header { return http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i+1)}} }
	for i := range 10 { // the limit: 10 failed tries a minute per IP
		email := fmt.Sprintf("nobody%d@cohub.test", i)
		if _, code := loginWith(t, attacker, c.base, email, "wrong-password", forged(i)); code != 401 {
			t.Fatalf("failed try %d: %d", i, code)
		}
	}
	if _, code := loginWith(t, attacker, c.base, "another@cohub.test", "wrong-password", forged(10)); code != 429 {
		t.Fatalf("the 11th try answered %d, want 429: a forged X-Forwarded-For was believed", code)
	}
	_, code := login(t, bystander, c.base, adminEmail, adminPassword)
	switch {
	case trusted && code != 200:
		t.Fatalf("a client at another address was limited too (%d): the node counted the balancer's address", code)
	case !trusted && code != 429:
		t.Fatalf("without --trusted-proxies every client is the balancer's address; got %d, want 429", code)
	}
}

func loginWith(t *testing.T, hc *http.Client, base, email, password string, header http.Header) (string, int) {
	t.Helper()
	var out struct{ Token string }
	code := call(t, hc, "POST", base+"/api/login", "", map[string]string{"email": email, "password": password}, &out, header)
	return out.Token, code
}

// The balancers must let a quiet WebSocket live longer than the node's
// ping interval: the node's pings are what keeps it open.
func TestBalancerTimeoutsAbovePing(t *testing.T) {
	for file, settings := range map[string][]string{
		"nginx.conf":  {`proxy_read_timeout\s+(\d+)s;`, `proxy_send_timeout\s+(\d+)s;`},
		"haproxy.cfg": {`timeout\s+tunnel\s+(\d+)s`},
	} {
		conf, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, setting := range settings {
			m := regexp.MustCompile(`(?m)^\s*` + setting).FindSubmatch(conf)
			if m == nil {
				t.Errorf("%s sets no %s in seconds", file, setting)
				continue
			}
			d, _ := time.ParseDuration(string(m[1]) + "s")
			if d <= 2*hub.DefaultPingEvery {
				t.Errorf("%s: %s: a WebSocket may be quiet for %s between pings; keep over twice that", file, m[0], hub.DefaultPingEvery)
			}
		}
	}
}

// With nginx's timeouts cut to 12 s, a WebSocket nobody writes to stays
// open 25 s: the node's pings (every 10 s, answered by the client) are
// what nginx sees. One embedded node stands behind all three upstreams.
func TestPingsKeepAQuietWebSocketOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a connection for 25 s")
	}
	t.Parallel()
	base, _ := behindNginx(t, map[string]string{"proxy_read_timeout": "12s", "proxy_send_timeout": "12s"})
	admin, code := login(t, nil, base, adminEmail, adminPassword)
	if code != 200 {
		t.Fatalf("login: %d", code)
	}
	ctx := context.Background()
	ws, err := wsclient.Open(ctx, base, wsclient.Agent(admin), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	frames := ws.Events() // its read loop is what answers the node's pings
	quiet := time.After(25 * time.Second)
	for waiting := true; waiting; {
		select {
		case _, ok := <-frames:
			if !ok {
				t.Fatal("the quiet connection was closed")
			}
		case <-quiet:
			waiting = false
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ws.Ping(pctx); err != nil {
		select {
		case <-ws.Done():
			t.Fatal("the quiet connection was closed after 25 s")
		default:
			t.Fatalf("no reply to a ping after 25 s quiet: %v", err)
		}
	}
}

// deploy/nginx.conf logs requests as usual, WebSockets included: the
// socket's URL carries a one-use ticket, never a credential. A
// customer's link path (/c/{token}) is the one thing kept out.
func TestNginxLogsWithoutCredentials(t *testing.T) {
	t.Parallel()
	base, b := behindNginx(t, nil)
	admin, code := login(t, nil, base, adminEmail, adminPassword)
	if code != 200 {
		t.Fatalf("login: %d", code)
	}
	ws, err := wsclient.Open(context.Background(), base, wsclient.Agent(admin), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.Close() // nginx logs a WebSocket once it ends
	res, err := http.Get(base + "/c/the-customers-link-token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	access := filepath.Join(b.dir, "access.log")
	var logged string
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logged, "GET /ws?ticket=") {
		if time.Now().After(deadline) {
			t.Fatalf("the WebSocket is not in the access log:\n%s", logged)
		}
		time.Sleep(20 * time.Millisecond) // polling a file nginx appends to: no event to await
		raw, _ := os.ReadFile(access)
		logged = string(raw)
	}
	for _, secret := range []string{admin, "the-customers-link-token", "access_token", "link="} {
		if strings.Contains(logged, secret) {
			t.Errorf("the access log holds %q:\n%s", secret, logged)
		}
	}
	if !strings.Contains(logged, "POST /api/ws/ticket") {
		t.Errorf("the ticket's request is not logged:\n%s", logged)
	}
}

// behindNginx starts one embedded node behind all three upstreams of
// deploy/nginx.conf (edit: as renderNginx's) and returns nginx's address.
func behindNginx(t *testing.T, edit map[string]string) (string, *balancer) {
	t.Helper()
	nginxBin := need(t, "nginx")
	front := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", front)
	n := &node{t: t, name: "cohub", args: []string{"--public-url", base, "--demo=false",
		"--admin-email", adminEmail, "--admin-password", adminPassword, "--log-format", "json"}}
	t.Cleanup(n.kill)
	n.start()
	return base, startNginx(t, nginxBin, renderNginx(t, front, []int{n.port, n.port, n.port}, edit))
}
