package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cohub/cohub/internal/wsclient"
)

// dial takes a ticket for cred (once per connection, before the dial:
// the messages' path never waits on one) and dials.
func dial(ctx context.Context, base string, cred wsclient.Credential) (*wsclient.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return wsclient.Open(ctx, base, cred, nil)
}

// joinRoom joins and waits for the reply.
func joinRoom(ctx context.Context, ws *wsclient.Conn, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := ws.Join(ctx, topic, nil); err != nil {
		return fmt.Errorf("join %s: %w", topic, err)
	}
	return nil
}

// drain reads and drops what ws receives until it ends.
func drain(ws *wsclient.Conn) {
	for range ws.Events() {
	}
}

// room is one session with its link.
type room struct {
	id, link string
}

func (c *client) newRoom(ctx context.Context, n int) (room, error) {
	var s struct{ ID string }
	body := map[string]any{"mode": "start", "customer": map[string]string{
		"name": fmt.Sprintf("Chat %d", n), "email": fmt.Sprintf("chat-%d-%d@example.com", time.Now().UnixNano(), n)}}
	if st, err := c.call(ctx, "POST", "/api/sessions", body, &s); err != nil || st != http.StatusCreated {
		return room{}, fmt.Errorf("create session: %d %v", st, err)
	}
	var l struct{ URL string }
	if st, err := c.call(ctx, "POST", "/api/sessions/"+s.ID+"/link", nil, &l); err != nil || st != http.StatusOK {
		return room{}, fmt.Errorf("link: %d %v", st, err)
	}
	return room{id: s.ID, link: l.URL[strings.LastIndex(l.URL, "/")+1:]}, nil
}

// chatReport is what the chat scenario measured.
type chatReport struct {
	mu        sync.Mutex
	lat       []time.Duration
	sent      atomic.Int64
	received  atomic.Int64
	disorder  atomic.Int64 // a seq not one past the previous
	failures  map[string]int
	elapsed   time.Duration
	rooms     int
	crossNode bool
}

func (r *chatReport) fail(what string) {
	r.mu.Lock()
	r.failures[what]++
	r.mu.Unlock()
}

// runChat: per room, the agent joins on --url and the customer on
// --customer-url (another node: the latency is cross-node) and the
// customer sends --rate messages a second; the agent times each from
// send to delivery.
func runChat(ctx context.Context, o options, c *client) (*chatReport, error) {
	rep := &chatReport{failures: map[string]int{}, rooms: o.Workers, crossNode: o.CustomerURL != o.URL}
	rooms := make([]room, o.Workers)
	for i := range rooms {
		r, err := c.newRoom(ctx, i)
		if err != nil {
			return nil, err
		}
		rooms[i] = r
	}
	sending, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for _, r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := chatRoom(ctx, sending, o, c.token, r, rep); err != nil && sending.Err() == nil {
				rep.fail(err.Error())
			}
		}()
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	return rep, nil
}

// drainWait is how long a room waits, once sending stops, for what it
// sent to be delivered: a message in flight at the end is late, not lost.
const drainWait = 5 * time.Second

// chatRoom sends while sending lasts, then waits for its messages to
// arrive (at most drainWait); ctx bounds the whole.
func chatRoom(ctx, sending context.Context, o options, token string, r room, rep *chatReport) error {
	topic := "room:" + r.id
	agent, err := dial(ctx, o.URL, wsclient.Agent(token))
	if err != nil {
		return fmt.Errorf("agent dial: %w", err)
	}
	defer agent.CloseNow()
	cust, err := dial(ctx, o.CustomerURL, wsclient.Customer(r.link, ""))
	if err != nil {
		return fmt.Errorf("customer dial: %w", err)
	}
	defer cust.CloseNow()
	if err := joinRoom(ctx, agent, topic); err != nil {
		return err
	}
	if err := joinRoom(ctx, cust, topic); err != nil {
		return err
	}
	go drain(cust)
	var last int64
	var got atomic.Int64
	arrived := make(chan struct{}, 1)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for f := range agent.Events() {
			if f.Op == "event" && received(f, &last, rep) {
				got.Add(1)
				select {
				case arrived <- struct{}{}:
				default:
				}
			}
		}
	}()
	defer func() { agent.CloseNow(); <-consumed }() // the report is read once every room returned
	tick := time.NewTicker(time.Second / time.Duration(o.Rate))
	defer tick.Stop()
	for n := int64(0); ; n++ {
		select {
		case <-sending.Done():
			awaitDelivery(ctx, &got, n, arrived)
			return nil
		case <-tick.C:
		}
		msg := map[string]any{"op": "send", "ref": strconv.FormatInt(n, 10), "topic": topic,
			"data": map[string]string{"text": fmt.Sprintf("t=%d", time.Now().UnixNano())}}
		if err := cust.Write(sending, msg); err != nil {
			if sending.Err() != nil {
				awaitDelivery(ctx, &got, n, arrived)
				return nil
			}
			return err
		}
		rep.sent.Add(1)
	}
}

// awaitDelivery waits until got reaches sent, for at most drainWait.
func awaitDelivery(ctx context.Context, got *atomic.Int64, sent int64, arrived <-chan struct{}) {
	limit := time.NewTimer(drainWait)
	defer limit.Stop()
	for got.Load() < sent {
		select {
		case <-arrived:
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// received times one message event the agent got, and says whether it
// was one of the scenario's.
func received(f wsclient.Frame, last *int64, rep *chatReport) bool {
	var d struct{ Type, Text string }
	_ = json.Unmarshal(f.Data, &d)
	if d.Type != "message" {
		return false
	}
	if *last != 0 && f.Seq != *last+1 {
		rep.disorder.Add(1)
	}
	*last = f.Seq
	if ns, err := strconv.ParseInt(strings.TrimPrefix(d.Text, "t="), 10, 64); err == nil {
		rep.mu.Lock()
		rep.lat = append(rep.lat, time.Since(time.Unix(0, ns)))
		rep.mu.Unlock()
		rep.received.Add(1)
		return true
	}
	return false
}

func (r *chatReport) print(w io.Writer) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	where := "same node"
	if r.crossNode {
		where = "customer and agent on different nodes"
	}
	fmt.Fprintf(w, "chat: %d rooms, %s, %.1fs\n", r.rooms, where, r.elapsed.Seconds())
	fmt.Fprintf(w, "messages: %d sent, %d delivered (%.0f/s), %d out of order\n",
		r.sent.Load(), r.received.Load(), float64(r.received.Load())/r.elapsed.Seconds(), r.disorder.Load())
	fmt.Fprintf(w, "delivery latency: p50 %s  p95 %s  p99 %s  max %s\n",
		pct(r.lat, 50), pct(r.lat, 95), pct(r.lat, 99), pct(r.lat, 100))
	for f, n := range r.failures {
		fmt.Fprintf(w, "failed: %s × %d\n", f, n)
	}
}

// idleReport is what the idle scenario measured on the server.
type idleReport struct {
	conns        int
	before, held map[string]float64
}

// runIdle opens --conns connections, ten to a room (an agent may have a
// room open in at most 20 connections), holds them, and reads the
// server's own memory from its metrics before and after: the
// per-connection cost.
func runIdle(ctx context.Context, o options, c *client) (*idleReport, error) {
	rep := &idleReport{conns: o.Conns}
	var rooms []room
	if c != nil {
		for i := range (o.Conns + 9) / 10 {
			r, err := c.newRoom(ctx, i)
			if err != nil {
				return nil, err
			}
			rooms = append(rooms, r)
		}
	}
	var err error
	if rep.before, err = serverMemory(ctx, o.MetricsURL); err != nil {
		return nil, err
	}
	hold, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := make([]*wsclient.Conn, 0, o.Conns)
	defer func() {
		for _, ws := range conns {
			ws.CloseNow()
		}
	}()
	for i := range o.Conns {
		var cred wsclient.Credential
		if c != nil {
			cred = wsclient.Agent(c.token)
		}
		ws, err := dial(hold, o.URL, cred)
		if err != nil {
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, ws)
		if len(rooms) > 0 {
			if err := joinRoom(hold, ws, "room:"+rooms[i%len(rooms)].id); err != nil {
				return nil, err
			}
		}
		go drain(ws) // its read loop answers the server's pings
	}
	select {
	case <-ctx.Done():
	case <-time.After(o.Duration): // let the server settle: a GC or two
	}
	rep.held, err = serverMemory(ctx, o.MetricsURL)
	return rep, err
}

// memorySeries are the server's own numbers the idle scenario compares.
var memorySeries = []string{"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes",
	"go_goroutines", "process_resident_memory_bytes"}

func serverMemory(ctx context.Context, metricsURL string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", metricsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("--metrics-url: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	// Cohub does not serve metrics on its public address: a 404 there
	// means the flag is missing, not that the server lacks memory.
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d: give --metrics-url, the address of cohub's --metrics-addr", metricsURL, res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	for _, s := range memorySeries {
		if _, ok := out[s]; !ok {
			return nil, fmt.Errorf("%s has no %s", metricsURL, s)
		}
	}
	return out, sc.Err()
}

func (r *idleReport) print(w io.Writer) {
	per := func(s string) float64 { return (r.held[s] - r.before[s]) / float64(r.conns) }
	fmt.Fprintf(w, "idle: %d connections held\n", r.conns)
	fmt.Fprintf(w, "per connection: heap %.1f KB + stacks %.1f KB = %.1f KB; resident %.1f KB; goroutines %.2f\n",
		per("go_memstats_heap_inuse_bytes")/1024, per("go_memstats_stack_inuse_bytes")/1024,
		(per("go_memstats_heap_inuse_bytes")+per("go_memstats_stack_inuse_bytes"))/1024,
		per("process_resident_memory_bytes")/1024, per("go_goroutines"))
}
