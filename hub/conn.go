package hub

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// Close codes (DESIGN.md §6).
const (
	CloseRestarting  = websocket.StatusServiceRestart // 1012
	CloseCredential  = websocket.StatusCode(4001)
	CloseLostAccess  = websocket.StatusCode(4003)
	CloseSlow        = websocket.StatusCode(4008)
	CloseTooMany     = websocket.StatusCode(4009)
	CloseEnded       = websocket.StatusCode(4010)
	CloseRateLimited = websocket.StatusCode(4029)
)

// conn is one client connection. Its reader goroutine (the HTTP
// handler's) is the only long-lived one: a writer runs only while the
// queue holds frames, and pings come from the node's ticker.
type conn struct {
	node *Node
	ws   *websocket.Conn
	id   string
	// nextPing is when the node's ticker pings next (unix ns): a
	// connection is first pinged between half an interval and one
	// interval after it opens.
	nextPing atomic.Int64
	// pingAt and pongAt are when the last ping went out and the last
	// pong came back (unix ns): the node's ticker drops a connection
	// whose pong is late.
	pingAt, pongAt atomic.Int64
	// the node's ticker only: pings sent, and when the last was queued
	// (unix ns; paced, it goes out within the tick)
	pings      int
	pingQueued int64
	wheelSlot  int64 // the ping wheel's: where the connection is filed
	role       string
	// agents: agent is the op runner's (a re-check replaces it); agentID
	// never changes, so other goroutines may read it.
	agent   *rooms.Agent
	agentID string
	token   string
	// slot is the connection's credential slot on this node (see claim).
	slot string
	// customers
	link     string
	custTok  string
	claims   rooms.LinkClaims
	joinedAt time.Time

	ctx    context.Context
	cancel context.CancelFunc

	// the op runner only (one op at a time), then unregister
	topics     joined
	inbox      bool
	lastTyping time.Time
	sends      int
	reads      map[*room]*pendingRead // read horizons asked, not yet written
	// the reader only
	lim     *rate.Limiter
	window  time.Time
	windowN int

	mu      sync.Mutex
	queue   [][]byte
	writing bool
	hold    *held // a send in flight holds the writes (conn_hold.go)
	closed  bool
	ops     []func(context.Context)
	running bool
	stopped bool
	opsDone sync.WaitGroup

	// c.mu too: a replay page still queued (see sendPage). page is closed
	// once the page has left the queue (or the connection closed),
	// pageLeft counts the queued frames up to its last, and pageSlot is
	// the agent's room slot it holds meanwhile ("" for a customer).
	page     chan struct{}
	pageLeft int
	pageSlot string
}

// joined are a connection's rooms. A slice, not a map: most connections
// hold one room, and every idle one would keep a map's table.
type joined []*room

func (j joined) get(topic string) *room {
	for _, r := range j {
		if r.topic == topic {
			return r
		}
	}
	return nil
}

func (j *joined) remove(topic string) {
	for i, r := range *j {
		if r.topic == topic {
			*j = slices.Delete(*j, i, i+1)
			return
		}
	}
}

// Queue and rate bounds (DESIGN.md §8).
const (
	maxOps      = 64
	maxTopics   = 100
	abuseWindow = 10 * time.Second
	typingEvery = 2 * time.Second
)

// send queues a frame without blocking; a full queue closes the
// connection with 4008 (the client resumes from its last seq).
func (c *conn) send(frame []byte) {
	if len(frame) == 0 {
		return
	}
	c.mu.Lock()
	c.queueFrame(frame)
}

// queueFrame is send with c.mu held; it unlocks it.
func (c *conn) queueFrame(frame []byte) {
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.node.cfg.SendQueue {
		c.mu.Unlock()
		c.node.metrics.SlowClosed.Inc()
		c.close(CloseSlow, "slow_consumer")
		return
	}
	c.queue = append(c.queue, frame)
	c.startWriter()
}

// backedUp reports a queue half full: refusals to a flooding client are
// then skipped, so its own flood ends in 4029, not in 4008.
func (c *conn) backedUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) >= c.node.cfg.SendQueue/2
}

// sendAll queues a reply with its replay. It counts against the queue's
// bound like any frame (a replay is at most a page): a client that does
// not read what it asked for is closed with 4008, not held in memory.
func (c *conn) sendAll(frames [][]byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue)+len(frames) > c.node.cfg.SendQueue {
		c.mu.Unlock()
		c.node.metrics.SlowClosed.Inc()
		c.close(CloseSlow, "slow_consumer")
		return
	}
	c.queue = append(c.queue, frames...)
	c.node.metrics.FramesOut.Add(float64(len(frames) - 1))
	c.startWriter()
}

// sendPage queues a replay page like sendAll and marks it held until it
// has left the queue: slot (an agent's room slot, already taken; "" for a
// customer) is given back then, or when the connection closes.
func (c *conn) sendPage(frames [][]byte, slot string) {
	c.mu.Lock()
	if c.closed || len(c.queue)+len(frames) > c.node.cfg.SendQueue {
		closed := c.closed
		c.mu.Unlock()
		c.node.giveSlot(slot)
		if !closed {
			c.node.metrics.SlowClosed.Inc()
			c.close(CloseSlow, "slow_consumer")
		}
		return
	}
	c.queue = append(c.queue, frames...)
	prev := c.dropPage() // none (join waits in pageSent), but never leak a slot
	c.page, c.pageLeft, c.pageSlot = make(chan struct{}), len(c.queue), slot
	c.node.metrics.FramesOut.Add(float64(len(frames) - 1))
	c.startWriter()
	c.node.giveSlot(prev)
}

// dropPage ends the hold of a queued page; c.mu is held. It returns the
// slot the caller gives back once c.mu is unlocked.
func (c *conn) dropPage() string {
	if c.page == nil {
		return ""
	}
	close(c.page)
	slot := c.pageSlot
	c.page, c.pageLeft, c.pageSlot = nil, 0, ""
	return slot
}

// releasePage ends the hold of a queued page, if any.
func (c *conn) releasePage() {
	c.mu.Lock()
	slot := c.dropPage()
	c.mu.Unlock()
	c.node.giveSlot(slot)
}

// startWriter unlocks c.mu and makes sure a writer is running, unless
// the writes are held.
func (c *conn) startWriter() {
	start := !c.writing && c.hold == nil
	if start {
		c.writing = true
	}
	c.mu.Unlock()
	c.node.metrics.FramesOut.Inc()
	if start {
		go c.writeLoop()
	}
}

// maxBatch bounds one WebSocket message of batched frames.
const maxBatch = 256 << 10

// take removes the frames for the next message from the queue.
func (c *conn) take() [][]byte {
	size := 0
	for i, f := range c.queue {
		if i > 0 && size+len(f) > maxBatch {
			batch := c.queue[:i:i]
			c.queue = c.queue[i:]
			return batch
		}
		size += len(f) + 1
	}
	batch := c.queue
	c.queue = nil
	return batch
}

// writeLoop sends what is queued, several frames per message, and ends
// when the queue is empty.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		batch := c.take()
		if len(batch) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		slot := ""
		if c.page != nil {
			// The page is out of the queue once its last frame is.
			if c.pageLeft -= len(batch); c.pageLeft <= 0 {
				slot = c.dropPage()
			}
		}
		c.mu.Unlock()
		c.node.giveSlot(slot)
		c.write(batch)
	}
}

// write sends frames as one message. The write takes no context of its
// own: one with a deadline cost every write a timer, two registrations
// with the connection's context and eleven allocations. A write stuck
// on a client that stopped reading ends with the connection: its ping
// cannot go out behind the write, so the tick drops it PongWait later
// (within PingEvery+PongWait+Tick, 16 s by default), and a close for
// any other reason (a full queue, a logout) closes the socket under it.
func (c *conn) write(batch [][]byte) {
	msg := batch[0]
	if len(batch) > 1 {
		msg = joinFrames(batch)
	}
	if err := c.ws.Write(context.Background(), websocket.MessageText, msg); err != nil {
		c.close(websocket.StatusGoingAway, "write failed")
	}
}

// joinFrames makes one message of frames, in one allocation of its
// size (a lone frame is written as it is).
func joinFrames(batch [][]byte) []byte {
	n := len(batch) - 1
	for _, f := range batch {
		n += len(f)
	}
	msg := make([]byte, 0, n)
	for i, f := range batch {
		if i > 0 {
			msg = append(msg, '\n')
		}
		msg = append(msg, f...)
	}
	return msg
}

// sendOwn sends a frame from the connection's own op runner: when nothing
// waits and no writer runs, it writes at once on this goroutine (a reply
// then starts and wakes no writer); otherwise it queues like send. Only
// the op runner may call it: it may block for the write.
func (c *conn) sendOwn(frame []byte) {
	c.mu.Lock()
	if c.closed || c.writing || len(c.queue) > 0 || c.hold != nil {
		c.mu.Unlock()
		c.send(frame)
		return
	}
	c.writing = true
	c.mu.Unlock()
	c.node.metrics.FramesOut.Inc()
	c.write([][]byte{frame})
	c.mu.Lock()
	if len(c.queue) > 0 && !c.closed {
		// Frames came while this one was written: a writer takes them.
		c.mu.Unlock()
		go c.writeLoop()
		return
	}
	c.writing = false
	c.mu.Unlock()
}

// close starts the closing handshake off the caller's goroutine: a room
// goroutine must never wait on a client.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	slot := c.dropPage()
	c.mu.Unlock()
	c.node.giveSlot(slot)
	go func() {
		_ = c.ws.Close(code, reason)
		c.cancel()
	}()
}

// abort drops the connection without a closing handshake, even one
// already waiting on a handshake: cancelling the read closes the socket.
func (c *conn) abort() {
	c.mu.Lock()
	c.closed, c.queue = true, nil
	slot := c.dropPage()
	c.mu.Unlock()
	c.node.giveSlot(slot)
	c.cancel()
	_ = c.ws.CloseNow()
}

// later runs fn after the connection's earlier ops, off the reader
// goroutine: the reader's stack stays small (an idle connection is
// cheap), and a slow backend never stops it from reading (and so from
// answering pings).
func (c *conn) later(fn func(context.Context)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ops) >= maxOps || c.stopped {
		return false
	}
	c.ops = append(c.ops, fn)
	if !c.running {
		c.running = true
		c.opsDone.Add(1)
		c.node.ops.Go(c.runOps)
	}
	return true
}

func (c *conn) runOps() {
	defer c.opsDone.Done()
	for {
		c.mu.Lock()
		if len(c.ops) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		fn := c.ops[0]
		c.ops[0] = nil // the frame it holds must not outlive its op
		c.ops = c.ops[1:]
		if len(c.ops) == 0 {
			c.ops = nil
		}
		c.mu.Unlock()
		c.safely(fn)
	}
}

// safely runs one op; a panic (a bug) closes this connection with 1011
// and is logged, instead of taking the node down.
func (c *conn) safely(fn func(context.Context)) {
	defer func() {
		if p := recover(); p != nil {
			c.node.log.Error().Interface("panic", p).Str("conn", c.id).Bytes("stack", debug.Stack()).Msg("op panicked")
			c.close(websocket.StatusInternalError, "internal error")
		}
	}()
	fn(c.ctx)
}

// drain refuses new ops and waits for the running ones; the caller has
// cancelled the connection's context, so retries give up at once.
func (c *conn) drain() {
	c.mu.Lock()
	c.stopped = true
	c.ops = nil
	c.mu.Unlock()
	c.opsDone.Wait()
}

// allow applies the per-connection rate limit; a client far over it
// for a whole window is closed with 4029.
func (c *conn) allow(now time.Time) bool {
	if c.lim == nil {
		c.lim = rate.NewLimiter(rate.Limit(c.node.cfg.FrameRate), c.node.cfg.FrameBurst)
		c.window = now
	}
	if now.Sub(c.window) >= abuseWindow {
		c.window, c.windowN = now, 0
	}
	c.windowN++
	if c.windowN > 2*c.node.cfg.FrameRate*int(abuseWindow/time.Second) {
		c.close(CloseRateLimited, "rate_limited")
		return false
	}
	return c.lim.AllowN(now, 1)
}

// readLoop is the connection's life: it reads frames and hands them,
// in order, to the connection's op runner.
func (c *conn) readLoop() {
	for {
		// A read ends when the socket closes (close, abort); a context
		// that can be cancelled would cost every idle connection a
		// registration for its pending read.
		typ, msg, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		c.node.metrics.FramesIn.Inc()
		if !c.node.framesSeen.Load() { // a load first: a store on every frame would contend
			c.node.framesSeen.Store(true)
		}
		if typ == websocket.MessageText && !utf8.Valid(msg) {
			c.close(websocket.StatusInvalidFramePayloadData, "text frames must be UTF-8")
			continue
		}
		allowed := c.allow(time.Now())
		read := time.Now()
		if !c.later(func(context.Context) {
			c.node.waited(time.Since(read))
			c.handle(typ, msg, read, allowed)
		}) && !c.backedUp() {
			// More frames wait than a client within its rate can send. A
			// client not reading its refusals gets no more of them: its
			// flood ends in 4029, not in its queue.
			c.send(encode(outFrame{Op: "reply", Ref: refOf(msg), Status: "error",
				Data: frameError{Code: CodeRateLimited, Message: "too many frames waiting; slow down"}}))
		}
	}
}

func refOf(msg []byte) string {
	var f struct {
		Ref string `json:"ref"`
	}
	_ = json.Unmarshal(msg, &f)
	return f.Ref
}

func (c *conn) handle(typ websocket.MessageType, msg []byte, read time.Time, allowed bool) {
	f, err := decodeFrame(typ, msg)
	if err != nil {
		c.reply(refOf(msg), err)
		return
	}
	f.read = read
	if !allowed {
		if f.Ref != "" && !c.backedUp() {
			c.reply(f.Ref, frameError{Code: CodeRateLimited, Message: "too many frames; slow down"})
		}
		return
	}
	switch f.Op {
	case "ping":
		c.ok(f.Ref, map[string]any{})
	case "join":
		c.join(f)
	case "leave":
		c.leave(f)
	case "send":
		c.post(f)
	case "typing":
		c.typing(f)
	case "complete_task":
		c.completeTask(f)
	case "read":
		c.markRead(f)
	default:
		c.reply(f.Ref, frameError{Code: CodeUnknownOp, Message: "unknown op " + f.Op})
	}
}

// ok and reply answer a frame; only the op runner calls them.
func (c *conn) ok(ref string, data any) { c.sendOwn(okFrame(ref, data)) }

func okFrame(ref string, data any) []byte {
	return encode(outFrame{Op: "reply", Ref: ref, Status: "ok", Data: data})
}

// seqReply is okFrame(ref, {"seq": seq}) written by hand: every message
// sent is answered with it.
func seqReply(ref string, seq int64) []byte {
	b := make([]byte, 0, len(`{"op":"reply","ref":"","status":"ok","data":{"seq":}}`)+len(ref)+20)
	b = append(b, `{"op":"reply"`...)
	if ref != "" {
		b = rooms.AppendJSONString(append(b, `,"ref":`...), ref)
	}
	b = append(b, `,"status":"ok","data":{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	return append(b, "}}"...)
}

func (c *conn) reply(ref string, err error) {
	fe := replyError(err)
	if fe.Code == "internal" {
		c.node.log.Error().Err(err).Str("conn", c.id).Msg("frame failed")
	}
	c.sendOwn(encode(outFrame{Op: "reply", Ref: ref, Status: "error", Data: fe}))
}

// actor is who this connection speaks as in the room log.
func (c *conn) actor() rooms.Actor {
	if c.agent != nil {
		return rooms.Actor{Role: "agent", ID: c.agent.ID, Name: c.agent.Name}
	}
	return rooms.Actor{Role: "customer"}
}

// entry is this connection's presence entry in a room.
func (c *conn) entry(roomID string) presence.Conn {
	p := presence.Conn{ID: c.id, Room: roomID, Role: c.role, Node: c.node.id}
	if c.agent != nil {
		p.AgentID, p.Name = c.agent.ID, c.agent.Name
	}
	return p
}

// retrying runs fn until it succeeds, fails for a reason other than the
// backend being away, or the connection ends: what a client sent while
// Redis was down is committed once it is back.
func retrying(ctx context.Context, fn func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || !errors.Is(err, rooms.ErrUnavailable) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}
