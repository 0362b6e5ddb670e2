package livetest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

// WaitLimit bounds each wait for a frame.
const WaitLimit = 10 * time.Second

// Client is a test connection (internal/wsclient) that records every
// frame it gets, with helpers that each fail the test rather than return
// an error.
type Client struct {
	*wsclient.Conn
	t   testing.TB
	mu  sync.Mutex
	ref int
}

// Frame is one server frame (its Raw is the frame as it came).
type Frame struct {
	wsclient.Frame
}

// Map is the frame's data as a JSON object.
func (f Frame) Map() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(f.Data, &m)
	return m
}

// matching is match on the client's frames.
func matching(match func(Frame) bool) func(wsclient.Frame) bool {
	return func(f wsclient.Frame) bool { return match(Frame{Frame: f}) }
}

// Dial connects to the node with a fresh ticket for cred, failing the
// test if it cannot.
func (tn *Node) Dial(t testing.TB, cred wsclient.Credential) *Client {
	t.Helper()
	c, resp, err := tn.TryDial(t, cred, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	return c
}

// TryDial takes a ticket for cred from the node and connects with it and
// header; a refused ticket or upgrade returns its response.
func (tn *Node) TryDial(t testing.TB, cred wsclient.Credential, header http.Header) (*Client, *http.Response, error) {
	return tn.DialWith(t, cred, header, nil)
}

// DialWith is TryDial through hc.
func (tn *Node) DialWith(t testing.TB, cred wsclient.Credential, header http.Header, hc *http.Client) (*Client, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q, err := cred.Ticket(ctx, tn.Server.URL, header, hc)
	if err != nil {
		return nil, wsclient.Response(err), err
	}
	return tn.DialQueryWith(t, q, header, hc)
}

// TryDialQuery connects with a /ws query as it is ("ticket=…", or the
// credentials in the URL the node refuses).
func (tn *Node) TryDialQuery(t testing.TB, query string, header http.Header) (*Client, *http.Response, error) {
	return tn.DialQueryWith(t, query, header, nil)
}

// DialQueryWith is TryDialQuery through hc.
func (tn *Node) DialQueryWith(t testing.TB, query string, header http.Header, hc *http.Client) (*Client, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, tn.Server.URL, query, &wsclient.Options{Header: header, HTTPClient: hc, Record: true})
	if err != nil {
		return nil, wsclient.Response(err), err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &Client{Conn: conn, t: t}, nil, nil
}

// Pause stops reading: the client neither drains frames nor answers
// pings, like a stalled reader or a silently dead network (see
// wsclient's Stall). Resume reads again.
func (c *Client) Pause() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitLimit)
	defer cancel()
	if err := c.Stall(ctx); err != nil {
		c.t.Fatalf("pause: %v; got %s", err, c.Dump())
	}
}

// MustWrite writes one frame.
func (c *Client) MustWrite(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Call sends an op with a fresh ref and returns its reply.
func (c *Client) Call(op map[string]any) Frame {
	c.t.Helper()
	c.mu.Lock()
	c.ref++
	ref := c.ref
	c.mu.Unlock()
	op["ref"] = strings.Repeat("r", 1) + itoa(ref)
	c.MustWrite(op)
	return c.Await("reply "+op["ref"].(string), func(f Frame) bool { return f.Op == "reply" && f.Ref == op["ref"] })
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Rejoin joins a topic from since as a client library does: it follows
// the replay's pages and returns the join's reply.
func (c *Client) Rejoin(topic string, since int64, epoch any) map[string]any {
	c.t.Helper()
	for pages := 0; ; pages++ {
		d := c.OK(map[string]any{"op": "join", "topic": topic, "since": since, "epoch": epoch})
		if d["more"] != true {
			return d
		}
		if pages > 1000 {
			c.t.Fatalf("a replay of over 1000 pages")
		}
		since = int64(d["next"].(float64))
	}
}

// OK calls and fails the test unless the reply is ok.
func (c *Client) OK(op map[string]any) map[string]any {
	c.t.Helper()
	r := c.Call(op)
	if r.Status != "ok" {
		c.t.Fatalf("%v: %s", op["op"], r.Raw)
	}
	return r.Map()
}

// Await returns the first frame not yet taken that matches, waiting for
// it to arrive.
func (c *Client) Await(what string, match func(Frame) bool) Frame {
	c.t.Helper()
	f, ok := c.Within(WaitLimit, match)
	if !ok {
		c.t.Fatalf("no %s within %s; got %s", what, WaitLimit, c.Dump())
	}
	return f
}

// Within is Await with a limit, reporting whether the frame came (by
// then, or before the connection ended).
func (c *Client) Within(d time.Duration, match func(Frame) bool) (Frame, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	f, err := c.Take(ctx, matching(match))
	if err != nil {
		return Frame{}, false
	}
	return Frame{Frame: f}, true
}

// All returns every frame received so far that matches.
func (c *Client) All(match func(Frame) bool) []Frame {
	var out []Frame
	for _, f := range c.Frames(matching(match)) {
		out = append(out, Frame{Frame: f})
	}
	return out
}

// Dump lists the frames received, for failure messages.
func (c *Client) Dump() string {
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

// AwaitClose waits for the server to close the connection.
func (c *Client) AwaitClose() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.Done():
	case <-time.After(WaitLimit):
		c.t.Fatalf("connection not closed; %d frames", len(c.All(func(Frame) bool { return true })))
	}
	return c.CloseStatus()
}

// IsStatus matches the status frames of topic for which pred holds.
func IsStatus(topic string, pred func(map[string]any) bool) func(Frame) bool {
	return func(f Frame) bool { return f.Op == "status" && f.Topic == topic && pred(f.Map()) }
}

// IsEvent matches the events of a type on topic.
func IsEvent(topic, typ string) func(Frame) bool {
	return func(f Frame) bool { return f.Op == "event" && f.Topic == topic && f.Map()["type"] == typ }
}

// Online matches a status saying the customer is online (want) or not.
func Online(want bool) func(map[string]any) bool {
	return func(d map[string]any) bool { return d["online"] == want }
}

// Agent dials a node as alex and joins the room.
func (c *Cluster) Agent(tn *Node, id string) *Client {
	cl := tn.Dial(c.T, wsclient.Agent(c.Tokens["alex"]))
	cl.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	return cl
}

// Customer dials a node with the link and joins the room.
func (c *Cluster) Customer(tn *Node, id, link string) *Client {
	cl := tn.Dial(c.T, wsclient.Customer(link, ""))
	cl.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	return cl
}

// Live is a session with alex in its room on one node and the customer
// on another, online.
type Live struct {
	ID, Link, Topic string
	Agent, Cust     *Client
}

// Live starts a session, joins alex on node agentNode and the customer
// on node custNode, and waits for the customer to show online.
func (c *Cluster) Live(agentNode, custNode int) Live {
	l := Live{}
	l.ID, l.Link = c.Session(rooms.CreateRequest{})
	l.Topic = bus.RoomTopic(l.ID)
	l.Agent = c.Agent(c.Nodes[agentNode], l.ID)
	l.Cust = c.Customer(c.Nodes[custNode], l.ID, l.Link)
	l.Agent.Await("online", IsStatus(l.Topic, Online(true)))
	return l
}
