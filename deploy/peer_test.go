package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cohub/cohub/internal/wsclient"
)

// peer is one person's live connection through the balancer, kept as a
// client library keeps it: when the connection ends it connects again
// (to whichever node the balancer picks), joins its room from the last
// seq it holds in the same epoch, and sends again, with the same id, the
// message that had no reply. It sends one message at a time.
type peer struct {
	name  string
	base  string              // ws://… of the balancer
	cred  wsclient.Credential // a fresh ticket for it opens each connection
	topic string
	agent bool

	mu      sync.Mutex
	seqs    []int64          // every event's seq, in arrival order, across connections
	texts   map[int64]string // a message event's text by seq
	acked   map[string]int64 // message id → the seq its reply gave
	sent    int              // messages made up so far
	pending string           // the id sent and not yet answered ok
	sentAt  time.Time        // when pending last went out
	refused bool             // pending's last reply was an error
	lastAck time.Time        // when the last message was answered
	maxGap  time.Duration    // the longest wait between two answered messages: the outage this peer saw
	epoch   string
	conns   int      // connections opened
	faults  []string // broken promises: order, epochs, the customer shown offline
	seenOn  bool     // the agent has seen the customer online
	wasOn   bool     // what the agent was shown last
	armed   bool     // from now on the customer must never show offline
	stop    bool     // make no new messages (pending ones still go)
	changed chan struct{}
	tl      *timeline
}

// timeline is what happened when, across peers and nodes, shown when a
// test fails.
type timeline struct {
	mu     sync.Mutex
	events []string
}

func (tl *timeline) add(format string, args ...any) {
	if tl == nil {
		return
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.events = append(tl.events, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

func (tl *timeline) String() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return strings.Join(tl.events, "\n")
}

func newPeer(name, wsBase string, cred wsclient.Credential, topic string, agent bool) *peer {
	return &peer{name: name, base: wsBase, cred: cred, topic: topic, agent: agent,
		texts: map[int64]string{}, acked: map[string]int64{}, changed: make(chan struct{}, 1)}
}

func (p *peer) fault(format string, args ...any) {
	p.faults = append(p.faults, fmt.Sprintf(format, args...))
}

func (p *peer) last() int64 {
	if len(p.seqs) == 0 {
		return 0
	}
	return p.seqs[len(p.seqs)-1]
}

func (p *peer) notify() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// run keeps the peer connected and talking until ctx ends; every period
// it sends a message when none is waiting for its reply.
func (p *peer) run(ctx context.Context, period time.Duration) {
	for ctx.Err() == nil {
		ws := p.dial(ctx)
		if ws == nil {
			return
		}
		p.session(ctx, ws, period)
	}
}

// dial connects, trying again while the balancer has no node for it.
func (p *peer) dial(ctx context.Context) *wsclient.Conn {
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ws, err := wsclient.Open(dctx, p.base, p.cred, nil)
		cancel()
		if err == nil {
			p.mu.Lock()
			p.conns++
			p.mu.Unlock()
			p.tl.add("%s connected", p.name)
			return ws
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}

// session serves one connection until it ends.
func (p *peer) session(ctx context.Context, ws *wsclient.Conn, period time.Duration) {
	defer ws.CloseNow()
	frames := ws.Events() // every frame: the peer matches its replies by its own refs
	p.mu.Lock()
	since, epoch := p.last(), p.epoch
	p.mu.Unlock()
	joined := false
	p.join(ctx, ws, since, epoch)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case f, ok := <-frames:
			if !ok {
				p.tl.add("%s: connection ended: %v", p.name, ws.Err())
				return // the node went away: connect again
			}
			switch p.handle(f) {
			case "joined":
				joined = true
				p.send(ctx, ws, true) // the message a dropped connection left unanswered
			case "more":
				p.mu.Lock()
				var d struct{ Next int64 }
				_ = json.Unmarshal(f.Data, &d)
				epoch := p.epoch
				p.mu.Unlock()
				p.join(ctx, ws, d.Next, epoch)
			}
		case <-tick.C:
			if joined {
				p.send(ctx, ws, false)
			}
		}
	}
}

func (p *peer) join(ctx context.Context, ws *wsclient.Conn, since int64, epoch string) {
	op := map[string]any{"op": "join", "ref": "join", "topic": p.topic, "since": since}
	if epoch != "" {
		op["epoch"] = epoch
	}
	write(ctx, ws, op)
}

// send sends the pending message again (resend), or a new one when none
// is pending and the peer is still talking.
func (p *peer) send(ctx context.Context, ws *wsclient.Conn, resend bool) {
	p.mu.Lock()
	id := p.pending
	switch {
	case id == "" && !resend && !p.stop:
		p.sent++
		id = fmt.Sprintf("%s-%d", strings.ReplaceAll(p.name, " ", "-"), p.sent)
		p.pending = id
	case id != "" && !resend && time.Since(p.sentAt) < time.Second && !p.refused:
		id = "" // its reply is on its way
	}
	if id != "" {
		p.sentAt, p.refused = time.Now(), false
	}
	p.mu.Unlock()
	if id == "" {
		return
	}
	write(ctx, ws, map[string]any{"op": "send", "ref": "send:" + id, "topic": p.topic, "id": id,
		"data": map[string]string{"text": id}})
}

// handle records a frame and says what the session must do next.
func (p *peer) handle(f wsclient.Frame) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.notify()
	switch {
	case f.Op == "reply" && f.Ref == "join":
		return p.joinReply(f)
	case f.Op == "reply" && strings.HasPrefix(f.Ref, "send:"):
		id := strings.TrimPrefix(f.Ref, "send:")
		var d struct{ Seq int64 }
		_ = json.Unmarshal(f.Data, &d)
		switch {
		case id != p.pending: // a late reply to a resend
		case f.Status == "ok":
			p.acked[id], p.pending = d.Seq, ""
			if now := time.Now(); !p.lastAck.IsZero() && now.Sub(p.lastAck) > p.maxGap {
				p.maxGap = now.Sub(p.lastAck)
			}
			p.lastAck = time.Now()
		default: // rate_limited, overloaded, backend_unavailable: the next tick sends it again
			p.refused = true
		}
	case f.Op == "event" && f.Topic == p.topic:
		if want := p.last() + 1; f.Seq != want {
			p.fault("%s: event seq %d, want %d", p.name, f.Seq, want)
		}
		p.seqs = append(p.seqs, f.Seq)
		var d struct{ Type, Text string }
		_ = json.Unmarshal(f.Data, &d)
		if d.Type == "message" {
			p.texts[f.Seq] = d.Text
		}
	case f.Op == "status" && f.Topic == p.topic:
		var d struct{ Online bool }
		_ = json.Unmarshal(f.Data, &d)
		p.online(d.Online, "status")
	case f.Op == "presence" && f.Topic == p.topic && p.agent:
		var d struct {
			CustomerOnline bool `json:"customer_online"`
		}
		_ = json.Unmarshal(f.Data, &d)
		p.online(d.CustomerOnline, "presence")
	}
	return ""
}

func (p *peer) joinReply(f wsclient.Frame) string {
	var d struct {
		Epoch     string
		Recovered *bool
		More      bool
		Indicator *struct{ Online bool }
		Code      string
	}
	_ = json.Unmarshal(f.Data, &d)
	if f.Status != "ok" {
		p.fault("%s: join refused: %s", p.name, f.Data)
		return ""
	}
	if p.epoch != "" && (d.Epoch != p.epoch || d.Recovered == nil || !*d.Recovered) {
		p.fault("%s: rejoin in epoch %q (had %q), recovered %v", p.name, d.Epoch, p.epoch, d.Recovered)
	}
	p.epoch = d.Epoch
	if d.More {
		return "more"
	}
	if d.Indicator != nil {
		p.online(d.Indicator.Online, "join")
	}
	return "joined"
}

// online notes what the agent was shown of the customer: once armed,
// the customer must never show offline (the test's customers never
// leave).
func (p *peer) online(on bool, where string) {
	if !p.agent {
		return
	}
	if on != p.wasOn {
		p.tl.add("%s: customer online=%v (%s)", p.name, on, where)
		p.wasOn = on
	}
	if on {
		p.seenOn = true
	} else if p.armed {
		p.fault("%s: the customer was shown offline (%s) at %s", p.name, where, time.Now().Format("15:04:05.000"))
	}
}

// write sends a frame whose reply comes through Events.
func write(ctx context.Context, ws *wsclient.Conn, v any) {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = ws.Write(wctx, v) // a failed write shows as the read's end
}

// snapshot is what the peer holds, for the test's checks.
type snapshot struct {
	seqs    []int64
	texts   map[int64]string
	acked   map[string]int64
	pending string
	conns   int
	faults  []string
	seenOn  bool
	wasOn   bool
	maxGap  time.Duration
}

func (p *peer) snapshot() snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := snapshot{seqs: append([]int64(nil), p.seqs...), texts: map[int64]string{}, acked: map[string]int64{},
		pending: p.pending, conns: p.conns, faults: append([]string(nil), p.faults...), seenOn: p.seenOn,
		wasOn: p.wasOn, maxGap: p.maxGap}
	for k, v := range p.texts {
		s.texts[k] = v
	}
	for k, v := range p.acked {
		s.acked[k] = v
	}
	return s
}

// await waits until cond holds of the peer, or d passes.
func (p *peer) await(d time.Duration, cond func(snapshot) bool) bool {
	deadline := time.After(d)
	for {
		if cond(p.snapshot()) {
			return true
		}
		select {
		case <-p.changed:
		case <-deadline:
			return cond(p.snapshot())
		}
	}
}

// arm makes the customer showing offline a fault from now on.
func (p *peer) arm() {
	p.mu.Lock()
	p.armed = true
	p.mu.Unlock()
}

// quiet stops new messages; the pending one still goes.
func (p *peer) quiet() {
	p.mu.Lock()
	p.stop = true
	p.mu.Unlock()
}
