package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cohub/cohub/internal/wsclient"
)

// A client behaves like the real client library: it reconnects with
// backoff (its preferred node first, then the others), resumes with since
// and epoch, follows replay pages, and resends what was not acknowledged
// with the same id. It keeps no dedupe of its own: what the server
// delivers twice, the checker sees twice.
type client struct {
	urls   []string
	prefer int
	cred   wsclient.Credential // each (re)connection takes a fresh ticket for it
	topic  string
	p      *Participant
	every  time.Duration // between two sends
	// sending is cleared when the run drains: no new messages, resends go on.
	sending *atomic.Bool
	// away, when set, is a deadline before which the client stays
	// disconnected (the nemesis sends the customer away).
	away atomic.Int64

	mu      sync.Mutex
	epoch   string
	lastSeq int64 // -1 before the first join
	online  *bool // the customer's presence as this agent last saw it
	n       int
	drop    func() // ends the current connection at once
}

// leave drops the connection without a word, as a phone losing its
// network does, and stays away for d.
func (c *client) leave(d time.Duration) {
	c.away.Store(time.Now().Add(d).UnixNano())
	c.mu.Lock()
	drop := c.drop
	c.mu.Unlock()
	if drop != nil {
		drop()
	}
}

const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 2 * time.Second
	resendAge  = time.Second
)

func newClient(urls []string, prefer int, cred wsclient.Credential, topic string, p *Participant, every time.Duration, sending *atomic.Bool) *client {
	return &client{urls: urls, prefer: prefer, cred: cred, topic: topic, p: p, every: every, sending: sending, lastSeq: -1}
}

// run keeps the client connected until ctx ends.
func (c *client) run(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		if wait := time.Until(time.Unix(0, c.away.Load())); wait > 0 {
			sleep(ctx, wait)
			continue
		}
		node := (c.prefer + attempt) % len(c.urls)
		joined := c.session(ctx, c.urls[node])
		c.p.down(time.Now())
		if joined {
			attempt = 0
		} else {
			attempt++
		}
		sleep(ctx, backoff(attempt))
	}
}

// backoff is full jitter over an exponential ceiling.
func backoff(attempt int) time.Duration {
	ceil := backoffMin << min(attempt, 5)
	if ceil > backoffMax {
		ceil = backoffMax
	}
	return time.Duration(rand.Int64N(int64(ceil))) + 10*time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// session is one connection: dial, join, then send and read until it
// ends. It reports whether the room was joined.
func (c *client) session(ctx context.Context, base string) bool {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	ws, err := wsclient.Open(dctx, base, c.cred, &wsclient.Options{ReadLimit: 4 << 20})
	cancel()
	if err != nil {
		return false
	}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	defer ws.CloseNow()
	c.mu.Lock()
	c.drop = func() { _ = ws.CloseNow() }
	c.mu.Unlock()
	conn := &connection{c: c, ws: ws, joinedAt: make(chan struct{})}
	if err := conn.join(cctx); err != nil {
		return false
	}
	go conn.sender(cctx, stop)
	conn.reader(cctx)
	select {
	case <-conn.joinedAt:
		return true
	default:
		return false
	}
}

// connection is one socket's state.
type connection struct {
	c        *client
	ws       *wsclient.Conn
	wmu      sync.Mutex
	joinedAt chan struct{}
	once     sync.Once
}

type frame = wsclient.Frame

func (k *connection) write(ctx context.Context, v any) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return k.ws.Write(wctx, v)
}

// join asks for the room from what this client last saw.
func (k *connection) join(ctx context.Context) error {
	c := k.c
	c.mu.Lock()
	f := map[string]any{"op": "join", "ref": "join", "topic": c.topic, "since": max(c.lastSeq, 0)}
	if c.epoch != "" {
		f["epoch"] = c.epoch
	}
	c.mu.Unlock()
	return k.write(ctx, f)
}

// reader handles every frame until the socket ends (or ctx does). A
// read waits as long as it takes: the server pings, and a dead link ends
// the read. The client matches replies by its own refs, so every frame
// comes through Events.
func (k *connection) reader(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f, ok := <-k.ws.Events():
			if !ok {
				return
			}
			if err := k.handle(ctx, f); err != nil {
				return
			}
		}
	}
}

func (k *connection) handle(ctx context.Context, f frame) error {
	switch {
	case f.Op == "reply" && f.Ref == "join":
		return k.joinReply(ctx, f)
	case f.Op == "reply" && strings.HasPrefix(f.Ref, "s:"):
		k.sendReply(f)
	case f.Op == "event" && f.Topic == k.c.topic:
		k.event(f)
	case f.Op == "presence" || f.Op == "status":
		k.presence(f)
	}
	return nil
}

type joinData struct {
	Seq       int64  `json:"seq"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
	More      bool   `json:"more"`
	Next      int64  `json:"next"`
}

// joinReply records a join (a replay page counts as one: its events
// follow it) and asks for the next page when there is one.
func (k *connection) joinReply(ctx context.Context, f frame) error {
	if f.Status != "ok" {
		return fmt.Errorf("join refused: %s", f.Data)
	}
	var d joinData
	if err := json.Unmarshal(f.Data, &d); err != nil {
		return err
	}
	c := k.c
	c.mu.Lock()
	since := max(c.lastSeq, 0)
	recovered := d.Recovered != nil && *d.Recovered
	if !recovered {
		c.lastSeq = d.Seq
	}
	c.epoch = d.Epoch
	c.mu.Unlock()
	c.p.joined(Join{At: time.Now(), Since: since, Epoch: d.Epoch, Seq: d.Seq, Recovered: d.Recovered})
	if d.More {
		c.mu.Lock()
		c.lastSeq = max(c.lastSeq, d.Next)
		c.mu.Unlock()
		return k.write(ctx, map[string]any{"op": "join", "ref": "join", "topic": c.topic, "since": d.Next, "epoch": d.Epoch})
	}
	k.once.Do(func() { close(k.joinedAt) })
	return nil
}

func (k *connection) sendReply(f frame) {
	if f.Status != "ok" {
		return // refused (overloaded, rate limited, backend away): resent later with the same id
	}
	var d struct {
		Seq int64 `json:"seq"`
	}
	if json.Unmarshal(f.Data, &d) == nil && d.Seq > 0 {
		k.c.p.acked(strings.TrimPrefix(f.Ref, "s:"), d.Seq, time.Now())
	}
}

func (k *connection) event(f frame) {
	var d struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(f.Data, &d)
	key := "t:" + d.Type
	if id, ok := strings.CutPrefix(d.Text, "soak "); ok && d.Type == "message" {
		key = "m:" + id
	}
	c := k.c
	c.mu.Lock()
	epoch := c.epoch
	if f.Seq > c.lastSeq {
		c.lastSeq = f.Seq
	}
	c.mu.Unlock()
	c.p.delivered(Delivery{Epoch: epoch, Seq: f.Seq, Key: key, At: time.Now()})
}

// presence follows the customer's online flag as an agent sees it; a
// change from online to offline is what the checker judges.
func (k *connection) presence(f frame) {
	if k.c.p.Role != "agent" {
		return
	}
	var d struct {
		CustomerOnline *bool `json:"customer_online"`
		Online         *bool `json:"online"`
	}
	if json.Unmarshal(f.Data, &d) != nil {
		return
	}
	on := d.CustomerOnline
	if on == nil {
		on = d.Online
	}
	if on == nil {
		return
	}
	c := k.c
	c.mu.Lock()
	was := c.online
	c.online = on
	c.mu.Unlock()
	if was != nil && *was && !*on {
		c.p.offline(time.Now())
	}
}

// sender sends at the client's pace once joined, and resends what is
// unacknowledged; it ends the connection when a write fails.
func (k *connection) sender(ctx context.Context, stop context.CancelFunc) {
	select {
	case <-ctx.Done():
		return
	case <-k.joinedAt:
	}
	tick := time.NewTicker(k.c.every)
	defer tick.Stop()
	resend := time.NewTicker(500 * time.Millisecond)
	defer resend.Stop()
	if k.resend(ctx, 0) != nil {
		stop()
		return
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if k.c.sending.Load() {
				err = k.sendNew(ctx)
			}
		case <-resend.C:
			err = k.resend(ctx, resendAge)
		}
		if err != nil {
			stop()
			return
		}
	}
}

func (k *connection) sendNew(ctx context.Context) error {
	c := k.c
	c.mu.Lock()
	c.n++
	id := fmt.Sprintf("%s-%s-%d", c.p.Room, c.p.Role, c.n)
	c.mu.Unlock()
	c.p.sent(id, time.Now())
	return k.send(ctx, id)
}

func (k *connection) send(ctx context.Context, id string) error {
	return k.write(ctx, map[string]any{"op": "send", "ref": "s:" + id, "topic": k.c.topic, "id": id,
		"data": map[string]string{"text": "soak " + id}})
}

// resend sends again, with the same ids, what has waited longer than age
// for its acknowledgement (a few at a time, oldest first).
func (k *connection) resend(ctx context.Context, age time.Duration) error {
	for _, id := range k.c.p.unackedBefore(time.Now().Add(-age), 10) {
		if err := k.send(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
