// Package wsclient is the one Go client of Cohub's WebSocket protocol
// (subprotocol cohub.v1, docs/DESIGN.md §6), used by the load tool, the
// soak and the tests. It never imports hub or api.
//
// A Conn has one read loop. Replies go to the call that awaits their ref;
// every other frame (events, status, presence, typing, and replies no
// call awaits) goes to the bounded channel of Events, in arrival order.
// The read loop blocks while that channel is full: a client that does not
// read its events stops reading the socket, as the server expects of a
// slow consumer.
//
// Tests need more of a client than a well-behaved one does, and have it
// here rather than dialing sockets of their own: Options.Record keeps
// every frame read, to be taken once each (Take) or looked over (Frames);
// Stall and StallAfter stop the read loop until Resume, so the server's
// frames and pings go unread, as with a stalled reader or a silently dead
// network; WriteRaw sends bytes as they are (malformed, oversized, not
// UTF-8); CloseWith closes with a code of the caller's.
package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Subprotocol is the protocol a Conn offers.
const Subprotocol = "cohub.v1"

// Frame is one server frame.
type Frame struct {
	Op     string          `json:"op"`
	Ref    string          `json:"ref,omitempty"`
	Status string          `json:"status,omitempty"`
	Topic  string          `json:"topic,omitempty"`
	Seq    int64           `json:"seq,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
	// Raw is the frame as it came: one line of a message.
	Raw string `json:"-"`
	// Message counts the WebSocket messages read up to the one that
	// carried the frame (1 for the first): frames with the same number
	// came in one write.
	Message int `json:"-"`
}

// Error is a reply with status "error".
type Error struct {
	Op           string // the op refused
	Code         string
	Message      string
	RetryAfterMS int64
	Data         json.RawMessage // the reply's whole data
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Code, e.Message)
}

// RetryAfter is the server's retry_after_ms as a duration (0 when none).
func (e *Error) RetryAfter() time.Duration { return time.Duration(e.RetryAfterMS) * time.Millisecond }

// Credential opens sockets: an agent's login token, or a customer's
// link with the pass (customer token) their gates gave. Open exchanges
// it for a one-use ticket before each dial; no credential goes in a URL.
type Credential struct {
	Token string // an agent's login token
	Link  string // a customer's link token
	Pass  string // the customer token, when the session has gates
}

// Agent is an agent's credential.
func Agent(token string) Credential { return Credential{Token: token} }

// Customer is a customer's credential: the link token and, when the
// session has gates, the customer token earned there.
func Customer(link, customerToken string) Credential {
	return Credential{Link: link, Pass: customerToken}
}

// Ticket asks base (POST /api/ws/ticket) for a ticket that opens one
// socket within 30 s, and returns the /ws query carrying it. header is
// sent too (a cookie, an Origin). A refusal's response is in the error
// (see Response), as a refused upgrade's is.
func (c Credential) Ticket(ctx context.Context, base string, header http.Header, hc *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, httpBase(base)+"/api/ws/ticket", nil)
	if err != nil {
		return "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	switch {
	case c.Link != "":
		req.Header.Set("Authorization", "Link "+c.Link)
		if c.Pass != "" {
			req.Header.Set("X-Cohub-Customer", c.Pass)
		}
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", &DialError{Err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return "", &DialError{Err: err}
	}
	var out struct {
		Ticket string `json:"ticket"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Ticket == "" {
		res.Body = io.NopCloser(bytes.NewReader(body))
		return "", &DialError{Err: fmt.Errorf("ticket refused: %s: %s", res.Status, bytes.TrimSpace(body)), Response: res}
	}
	return "ticket=" + url.QueryEscape(out.Ticket), nil
}

// Open takes a fresh ticket for c and dials base's /ws with it: each
// connection, and each reconnection, uses a ticket of its own.
func Open(ctx context.Context, base string, c Credential, o *Options) (*Conn, error) {
	if o == nil {
		o = &Options{}
	}
	q, err := c.Ticket(ctx, base, o.Header, o.HTTPClient)
	if err != nil {
		return nil, err
	}
	return Dial(ctx, base, q, o)
}

// httpBase is base with an http or https scheme.
func httpBase(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasPrefix(base, "ws") {
		base = "http" + strings.TrimPrefix(base, "ws")
	}
	return base
}

// URL is the /ws address of a server's base URL (http, https, ws or wss)
// with a query.
func URL(base, query string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasPrefix(base, "http") {
		base = "ws" + strings.TrimPrefix(base, "http")
	}
	return base + "/ws?" + query
}

// Options tune Dial; the zero value is what the clients use.
type Options struct {
	Header     http.Header
	HTTPClient *http.Client
	ReadLimit  int64 // bytes of one message; default 1 MiB
	Buffer     int   // frames Events holds; default 256
	// Record keeps every frame read, in order, for Take and Frames;
	// the frames no call awaits then go to the record instead of Events
	// (which only closes at the end), so an unread record never stops
	// the read loop. A reply a call received is recorded as taken.
	Record bool
}

// Conn is one connection.
type Conn struct {
	ws     *websocket.Conn
	events chan Frame
	done   chan struct{}
	stop   context.CancelFunc

	mu      sync.Mutex
	ref     int
	waiters map[string]chan Frame
	err     error

	// With Options.Record: every frame read, whether each was taken,
	// and a channel closed (and replaced) when frames are added.
	record bool
	frames []Frame
	taken  []bool
	grew   chan struct{}

	stall *stall // the pending or reached stall, or nil
}

// stall stops the read loop after the message holding the reply to ref.
type stall struct {
	ref     string
	reached bool
	stalled chan struct{} // closed when the loop stops
	resume  chan struct{} // closed by Resume
}

// Dial connects to base's /ws with query as it is ("ticket=…", see
// Credential.Ticket; Open takes the ticket and dials). A refused
// upgrade's response is in the error (see Response).
func Dial(ctx context.Context, base, query string, o *Options) (*Conn, error) {
	if o == nil {
		o = &Options{}
	}
	ws, resp, err := websocket.Dial(ctx, URL(base, query), &websocket.DialOptions{
		Subprotocols: []string{Subprotocol}, HTTPHeader: o.Header, HTTPClient: o.HTTPClient})
	if err != nil {
		return nil, &DialError{Err: err, Response: resp}
	}
	limit, buf := o.ReadLimit, o.Buffer
	if limit <= 0 {
		limit = 1 << 20
	}
	if buf <= 0 {
		buf = 256
	}
	ws.SetReadLimit(limit)
	rctx, stop := context.WithCancel(context.Background())
	c := &Conn{ws: ws, events: make(chan Frame, buf), done: make(chan struct{}), stop: stop,
		waiters: map[string]chan Frame{}, record: o.Record, grew: make(chan struct{})}
	go c.read(rctx)
	return c, nil
}

// DialError is a failed Dial, with the server's answer when there was one.
type DialError struct {
	Err      error
	Response *http.Response
}

func (e *DialError) Error() string { return "dial: " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// Response is the HTTP answer to a refused Dial, or nil.
func Response(err error) *http.Response {
	var de *DialError
	if errors.As(err, &de) {
		return de.Response
	}
	return nil
}

func (c *Conn) read(ctx context.Context) {
	defer close(c.done)
	defer close(c.events)
	for n := 1; ; n++ {
		_, msg, err := c.ws.Read(ctx)
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		var st *stall
		for _, line := range bytes.Split(msg, []byte("\n")) {
			var f Frame
			if json.Unmarshal(line, &f) != nil {
				continue
			}
			f.Raw, f.Message = string(line), n
			var w chan Frame
			if f.Op == "reply" || c.record {
				c.mu.Lock()
				if f.Op == "reply" {
					w = c.waiters[f.Ref]
					delete(c.waiters, f.Ref)
					if c.stall != nil && !c.stall.reached && c.stall.ref == f.Ref {
						c.stall.reached, st = true, c.stall
					}
				}
				if c.record {
					c.frames = append(c.frames, f)
					c.taken = append(c.taken, w != nil)
				}
				c.mu.Unlock()
			}
			if w != nil {
				w <- f // buffered: never blocks
				continue
			}
			if c.record {
				continue
			}
			select {
			case c.events <- f:
			case <-ctx.Done():
				return
			}
		}
		if c.record {
			c.mu.Lock()
			close(c.grew)
			c.grew = make(chan struct{})
			c.mu.Unlock()
		}
		if st != nil {
			close(st.stalled)
			select {
			case <-st.resume:
			case <-ctx.Done():
				return
			}
		}
	}
}

// Events are the frames no call awaits, in arrival order (none with
// Options.Record: they are in the record); the channel closes when the
// connection ends (then Err says why).
func (c *Conn) Events() <-chan Frame { return c.events }

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// CloseStatus is the close code the connection ended with, or -1.
func (c *Conn) CloseStatus() websocket.StatusCode { return websocket.CloseStatus(c.Err()) }

// Await reads Events until a frame matches, dropping the others. On a
// Conn with Options.Record it is Take.
func (c *Conn) Await(ctx context.Context, match func(Frame) bool) (Frame, error) {
	if c.record {
		return c.Take(ctx, match)
	}
	for {
		select {
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		case f, ok := <-c.events:
			if !ok {
				return Frame{}, c.ended()
			}
			if match(f) {
				return f, nil
			}
		}
	}
}

// errNoRecord is Take's answer on a Conn without Options.Record.
var errNoRecord = errors.New("wsclient: Take needs Options.Record")

// Take returns the first recorded frame not yet taken that matches, and
// marks it taken, waiting for one to arrive. Once the connection has
// ended with no such frame recorded, it returns why. It needs
// Options.Record.
func (c *Conn) Take(ctx context.Context, match func(Frame) bool) (Frame, error) {
	if !c.record {
		return Frame{}, errNoRecord
	}
	ended := false
	for {
		c.mu.Lock()
		for i, f := range c.frames {
			if !c.taken[i] && match(f) {
				c.taken[i] = true
				c.mu.Unlock()
				return f, nil
			}
		}
		grew := c.grew
		c.mu.Unlock()
		if ended {
			return Frame{}, c.ended()
		}
		select {
		case <-grew:
		case <-c.done: // the record is whole: look once more
			ended = true
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		}
	}
}

// Frames returns every recorded frame that matches (every one when match
// is nil), taken or not, in arrival order. It needs Options.Record.
func (c *Conn) Frames(match func(Frame) bool) []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Frame
	for _, f := range c.frames {
		if match == nil || match(f) {
			out = append(out, f)
		}
	}
	return out
}

func (c *Conn) ended() error {
	if err := c.Err(); err != nil {
		return fmt.Errorf("connection ended: %w", err)
	}
	return errors.New("connection ended")
}

// Write sends one frame as is and awaits nothing: its reply, if any,
// comes through Events.
func (c *Conn) Write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.WriteRaw(ctx, b)
}

// WriteRaw sends b as one text message as it is, valid or not (a
// malformed frame, an oversized one, bytes that are not UTF-8), as a
// broken client might.
func (c *Conn) WriteRaw(ctx context.Context, b []byte) error {
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// Call sends op (an op's fields; Call sets its ref) and returns the
// reply's data; a reply with status "error" is an *Error.
func (c *Conn) Call(ctx context.Context, op map[string]any) (json.RawMessage, error) {
	w := make(chan Frame, 1)
	c.mu.Lock()
	c.ref++
	ref := strconv.Itoa(c.ref)
	c.waiters[ref] = w
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.waiters, ref)
		c.mu.Unlock()
	}
	msg := make(map[string]any, len(op)+1)
	for k, v := range op {
		msg[k] = v
	}
	msg["ref"] = ref
	if err := c.Write(ctx, msg); err != nil {
		forget()
		return nil, err
	}
	select {
	case f := <-w:
		if f.Status != "ok" {
			e := &Error{Op: fmt.Sprint(op["op"]), Data: f.Data}
			var d struct {
				Code         string `json:"code"`
				Message      string `json:"message"`
				RetryAfterMS int64  `json:"retry_after_ms"`
			}
			_ = json.Unmarshal(f.Data, &d)
			e.Code, e.Message, e.RetryAfterMS = d.Code, d.Message, d.RetryAfterMS
			return f.Data, e
		}
		return f.Data, nil
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	case <-c.done:
		forget()
		select { // the reply may have come just before the end
		case f := <-w:
			if f.Status == "ok" {
				return f.Data, nil
			}
		default:
		}
		return nil, c.ended()
	}
}

// Since is where a join resumes: after seq Seq of epoch Epoch (an empty
// Epoch means the room's current one).
type Since struct {
	Seq   int64
	Epoch string
}

// JoinReply is the part of a join's reply the protocol's paging and
// resuming need; the whole reply is the data Join returns.
type JoinReply struct {
	Seq       int64  `json:"seq"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
	More      bool   `json:"more"`
	Next      int64  `json:"next"`
}

// ParseJoin reads a join reply's data.
func ParseJoin(data json.RawMessage) JoinReply {
	var r JoinReply
	_ = json.Unmarshal(data, &r)
	return r
}

// Join joins topic (replaying after since when given) and returns the
// reply's data. A reply with more is one page: see JoinAll.
func (c *Conn) Join(ctx context.Context, topic string, since *Since) (json.RawMessage, error) {
	op := map[string]any{"op": "join", "topic": topic}
	if since != nil {
		op["since"] = since.Seq
		if since.Epoch != "" {
			op["epoch"] = since.Epoch
		}
	}
	return c.Call(ctx, op)
}

// JoinAll joins, and joins again from next in the same epoch while the
// reply says more; it returns the last reply's data (the join's).
func (c *Conn) JoinAll(ctx context.Context, topic string, since *Since) (json.RawMessage, error) {
	for {
		data, err := c.Join(ctx, topic, since)
		if err != nil {
			return data, err
		}
		r := ParseJoin(data)
		if !r.More {
			return data, nil
		}
		since = &Since{Seq: r.Next, Epoch: r.Epoch}
	}
}

// Leave leaves topic.
func (c *Conn) Leave(ctx context.Context, topic string) error {
	_, err := c.Call(ctx, map[string]any{"op": "leave", "topic": topic})
	return err
}

// Send posts data in topic under the client's id (optional: "" sends
// unnamed) and returns the seq the reply gives.
func (c *Conn) Send(ctx context.Context, topic, id string, data any) (int64, error) {
	op := map[string]any{"op": "send", "topic": topic, "data": data}
	if id != "" {
		op["id"] = id
	}
	d, err := c.Call(ctx, op)
	if err != nil {
		return 0, err
	}
	var r struct {
		Seq int64 `json:"seq"`
	}
	_ = json.Unmarshal(d, &r)
	return r.Seq, nil
}

// Ping is the client's own ping op.
func (c *Conn) Ping(ctx context.Context) error {
	_, err := c.Call(ctx, map[string]any{"op": "ping"})
	return err
}

// StallAfter stops the read loop once it has read the message holding
// the reply to ref, until Resume: the connection then neither reads the
// server's frames nor answers its pings. One stall at a time: a later
// StallAfter (or Stall) replaces one not yet reached, and lets one
// reached read on first, as Resume does.
func (c *Conn) StallAfter(ref string) {
	c.mu.Lock()
	c.stallAfter(ref)
	c.mu.Unlock()
}

func (c *Conn) stallAfter(ref string) *stall {
	if old := c.stall; old != nil && old.reached {
		close(old.resume)
	}
	st := &stall{ref: ref, stalled: make(chan struct{}), resume: make(chan struct{})}
	c.stall = st
	return st
}

// Stall stops the read loop now, until Resume, as a stalled reader or a
// silently dead network does: no frame is read and no ping answered. A
// loop waiting in a read would still answer pings, so Stall sends a ping
// op of its own, the loop stops right after reading its reply, and Stall
// returns once it has stopped. The reply is a call's: it goes neither
// to Events nor untaken to the record.
func (c *Conn) Stall(ctx context.Context) error {
	w := make(chan Frame, 1)
	c.mu.Lock()
	c.ref++
	ref := "stall-" + strconv.Itoa(c.ref)
	c.waiters[ref] = w
	st := c.stallAfter(ref)
	c.mu.Unlock()
	if err := c.Write(ctx, map[string]any{"op": "ping", "ref": ref}); err != nil {
		c.mu.Lock()
		delete(c.waiters, ref)
		if c.stall == st {
			c.stall = nil
		}
		c.mu.Unlock()
		return err
	}
	select {
	case <-st.stalled:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.ended()
	}
}

// Resume lets a stalled read loop read again, and drops a stall not yet
// reached.
func (c *Conn) Resume() {
	c.mu.Lock()
	st := c.stall
	c.stall = nil
	c.mu.Unlock()
	if st != nil {
		close(st.resume)
	}
}

// Close closes the connection normally and waits for its read loop.
func (c *Conn) Close() error { return c.CloseWith(websocket.StatusNormalClosure, "") }

// CloseWith closes the connection with a close code and reason of the
// caller's and waits for its read loop.
func (c *Conn) CloseWith(code websocket.StatusCode, reason string) error {
	err := c.ws.Close(code, reason)
	c.stop()
	<-c.done
	return err
}

// CloseNow drops the connection without a close handshake, as a lost
// network does.
func (c *Conn) CloseNow() error {
	err := c.ws.CloseNow()
	c.stop()
	return err
}
