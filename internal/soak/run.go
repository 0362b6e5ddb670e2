package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cohub/cohub/internal/wsclient"
)

// Config shapes a soak run.
type Config struct {
	Bin      string // the cohub binary (see Build)
	Dir      string // working folder: Redis data, node logs
	Nodes    int
	Rooms    int
	Every    time.Duration // between two messages of one participant
	Duration time.Duration // of the faults and traffic; the drain comes after
	Seed     uint64
	Faults   []string // kinds the nemesis uses (none: a calm run)
	TTL      time.Duration
	Grace    time.Duration
	Sentinel bool   // Redis as master, replica and sentinels (see Options)
	Cluster  bool   // Redis Cluster, three masters and three replicas (see Options)
	Nginx    string // deploy/nginx.conf's path: nginx in front of the nodes (see Options)
	// Reminders is how many never-joined sessions get reminders through
	// the run, each sent once whatever the nemesis does (0: none).
	Reminders int
	Log       io.Writer // progress lines
}

// checkKinds refuses a fault the topology cannot have.
func checkKinds(cfg Config) error {
	allowed := FaultKinds
	switch {
	case cfg.Sentinel && cfg.Cluster:
		return fmt.Errorf("choose Sentinel or Cluster, not both")
	case cfg.Sentinel:
		allowed = SentinelFaultKinds
	case cfg.Cluster:
		allowed = ClusterFaultKinds
	}
	for _, k := range cfg.Faults {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("fault %q is not one of %s", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// Run starts a cluster, runs traffic under the nemesis for the duration,
// drains (no new messages; unacknowledged ones resent until answered)
// and returns what every participant saw.
func Run(ctx context.Context, cfg Config) (*Record, error) {
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
		}
	}
	if err := checkKinds(cfg); err != nil {
		return nil, err
	}
	c, err := StartCluster(ctx, Options{Bin: cfg.Bin, Dir: cfg.Dir, Nodes: cfg.Nodes, PresenceTTL: cfg.TTL,
		LeaveGrace: cfg.Grace, Sentinel: cfg.Sentinel, Cluster: cfg.Cluster, Nginx: cfg.Nginx})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rec := &Record{TTL: cfg.TTL, Grace: cfg.Grace}
	sending := &atomic.Bool{}
	sending.Store(true)
	clients, err := openRooms(ctx, c, cfg, rec, sending)
	if err != nil {
		return nil, err
	}
	if cfg.Reminders > 0 {
		if err := remindSessions(ctx, c.ClientURLs()[0], cfg, rec); err != nil {
			return nil, fmt.Errorf("reminders: %w", err)
		}
	}
	if c.front != nil {
		logf("%d rooms on %d nodes behind nginx at %s", len(rec.Rooms), len(c.Nodes), c.front.URL())
	} else {
		logf("%d rooms on %d nodes", len(rec.Rooms), len(c.Nodes))
	}
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Go(func() { cl.run(cctx) })
	}
	defer func() { stop(); wg.Wait() }()
	if err := waitFor(ctx, 30*time.Second, func() bool { return allJoined(rec) }); err != nil {
		return nil, fmt.Errorf("rooms not joined: %w", err)
	}
	rec.Start = time.Now()
	n := &nemesis{c: c, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), kinds: cfg.Faults,
		rooms: rec.Rooms, clients: clients, ttl: cfg.TTL, grace: cfg.Grace, logf: logf, linked: map[int]time.Time{}}
	if len(cfg.Faults) > 0 {
		err = n.run(ctx, rec.Start.Add(cfg.Duration))
	}
	rec.Faults = n.faults
	if err != nil {
		return rec, fmt.Errorf("nemesis: %w", err)
	}
	sleep(ctx, time.Until(rec.Start.Add(cfg.Duration)))
	sending.Store(false)
	logf("draining")
	drain(ctx, rec, logf)
	if len(rec.Reminded) > 0 {
		if err := settleReminders(ctx, c.ClientURLs(), rec); err != nil {
			logf("reminders not read: %v", err)
		}
	}
	rec.End = time.Now()
	return rec, ctx.Err()
}

// drain waits for every send to be acknowledged and every acknowledged
// message to reach everyone; what never comes is for the checker.
func drain(ctx context.Context, rec *Record, logf func(string, ...any)) {
	if err := waitFor(ctx, 60*time.Second, func() bool { return pendingSends(rec) == 0 }); err != nil {
		logf("%d sends still unacknowledged", pendingSends(rec))
	}
	if err := waitFor(ctx, 30*time.Second, func() bool { return allDelivered(rec) }); err != nil {
		logf("acknowledged messages still on their way")
	}
}

// waitFor polls cond: the run watches many clients from outside, with no
// single event to await.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", limit)
		}
		sleep(ctx, 200*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func allJoined(rec *Record) bool {
	for _, r := range rec.Rooms {
		for _, p := range r.Participants() {
			p.mu.Lock()
			n := len(p.Joins)
			p.mu.Unlock()
			if n == 0 {
				return false
			}
		}
	}
	return true
}

func pendingSends(rec *Record) int {
	n := 0
	for _, r := range rec.Rooms {
		for _, p := range r.Participants() {
			n += p.pending()
		}
	}
	return n
}

func allDelivered(rec *Record) bool {
	for _, r := range rec.Rooms {
		var acked []string
		for _, p := range r.Participants() {
			p.mu.Lock()
			for id, s := range p.Sends {
				if s.Acked {
					acked = append(acked, "m:"+id)
				}
			}
			p.mu.Unlock()
		}
		for _, p := range r.Participants() {
			got := p.deliveredIDs()
			for _, k := range acked {
				if !got[k] {
					return false
				}
			}
		}
	}
	return true
}

// openRooms creates the sessions as the admin and a client for each side,
// the agent preferring one node and the customer the next; behind nginx
// both dial nginx, and nginx picks each connection's node.
func openRooms(ctx context.Context, c *Cluster, cfg Config, rec *Record, sending *atomic.Bool) (map[*Participant]*client, error) {
	urls := c.ClientURLs()
	token, err := login(ctx, urls[0])
	if err != nil {
		return nil, err
	}
	clients := map[*Participant]*client{}
	for i := range cfg.Rooms {
		id, link, err := newSession(ctx, urls[0], token, i)
		if err != nil {
			return nil, err
		}
		r := &Room{ID: id, Agent: newParticipant(id, "agent"), Customer: newParticipant(id, "customer")}
		rec.Rooms = append(rec.Rooms, r)
		topic := "room:" + id
		clients[r.Agent] = newClient(urls, i%len(urls), wsclient.Agent(token), topic, r.Agent, cfg.Every, sending)
		clients[r.Customer] = newClient(urls, (i+1)%len(urls), wsclient.Customer(link, ""), topic, r.Customer, cfg.Every, sending)
	}
	return clients, nil
}

func login(ctx context.Context, base string) (string, error) {
	var out struct{ Token string }
	err := call(ctx, base, "", "POST", "/api/login", map[string]string{"email": AdminEmail, "password": adminPassword}, &out)
	return out.Token, err
}

func newSession(ctx context.Context, base, token string, i int) (id, link string, err error) {
	var s struct{ ID string }
	body := map[string]any{"mode": "start", "customer": map[string]string{
		"name": fmt.Sprintf("Soak %d", i), "email": fmt.Sprintf("soak-%d@example.com", i)}}
	if err := call(ctx, base, token, "POST", "/api/sessions", body, &s); err != nil {
		return "", "", err
	}
	var l struct{ URL string }
	if err := call(ctx, base, token, "POST", "/api/sessions/"+s.ID+"/link", nil, &l); err != nil {
		return "", "", err
	}
	return s.ID, l.URL[strings.LastIndex(l.URL, "/")+1:], nil
}

func call(ctx context.Context, base, token, method, path string, body, into any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return json.NewDecoder(res.Body).Decode(into)
}
