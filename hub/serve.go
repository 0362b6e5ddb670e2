package hub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/internal/errcode"
	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

// readLimit bounds a client frame; a bigger one closes with 1009.
const readLimit = 64 << 10

// errUnauthenticated refuses an upgrade without a usable credential.
var errUnauthenticated = rooms.ErrBadCredential

// ServeHTTP is GET /ws: the credential is checked before the upgrade
// (401, 410), the Origin by the upgrade (403), a customer session's
// connection bound right after it (4009), then the connection lives in a
// goroutine of its own.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n.closing.Load() {
		n.writeError(w, r, rooms.ErrUnavailable)
		return
	}
	c, err := n.identify(r)
	if err != nil {
		n.writeError(w, r, err)
		return
	}
	over := !n.claim(c)
	// The server's read timeout would otherwise cut the connection:
	// hijacked connections keep the deadlines net/http set.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		Subprotocols:   []string{Subprotocol},
		OriginPatterns: n.cfg.Origins,
		OnPongReceived: func(context.Context, []byte) { c.pongAt.Store(time.Now().UnixNano()) },
	})
	if err != nil {
		n.releaseSlot(c)
		return // Accept answered (403 for a foreign Origin)
	}
	if ws.Subprotocol() != Subprotocol {
		n.releaseSlot(c)
		_ = ws.Close(websocket.StatusPolicyViolation, "subprotocol "+Subprotocol+" required")
		return
	}
	if over {
		// A page cannot read a refused upgrade's status, so it could not
		// tell "too many tabs" from "pass the gates again": past the
		// bound the upgrade is accepted and closed with a code it reads.
		_ = ws.Close(CloseTooMany, tooManyConns)
		return
	}
	ws.SetReadLimit(readLimit)
	c.ws = ws
	// Not a child of the node's context: ten thousand children cost the
	// node a map entry each, and Shutdown and kill end every connection
	// themselves.
	c.ctx, c.cancel = context.WithCancel(context.Background())
	n.handlers.Add(1)
	n.register(c)
	// The connection lives in a goroutine of its own: the handler's
	// stack (grown by middleware and the credential check) and request
	// are released, so an idle connection costs little more than its
	// socket buffers.
	go n.serve(c)
}

// Buffer sizes a connection keeps for its life. net/http hands a
// hijacked connection a 4 KB reader and writer, and the WebSocket library
// keeps both: 8 KB of every idle connection's memory, twice that in RSS
// once the collector's headroom counts. A client's frames are a few
// hundred bytes, and so are most of ours; a bigger message costs one more
// system call, not a failure.
const (
	readBuffer  = 1 << 10
	writeBuffer = 2 << 10
)

// smallBuffers gives the upgrade smaller buffers than net/http's.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return conn, bufio.NewReadWriter(smallReader(conn, brw.Reader), bufio.NewWriterSize(conn, writeBuffer)), nil
}

// smallReader carries over what net/http read ahead (a client may send
// right behind its upgrade request); in the rare case of more than fits,
// it keeps net/http's reader.
func smallReader(conn net.Conn, r *bufio.Reader) *bufio.Reader {
	n := r.Buffered()
	if n == 0 {
		return bufio.NewReaderSize(conn, readBuffer)
	}
	if n > readBuffer {
		return r
	}
	ahead, _ := r.Peek(n)
	small := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), conn), readBuffer)
	if _, err := small.Peek(n); err != nil {
		return r
	}
	return small
}

func (n *Node) serve(c *conn) {
	defer n.handlers.Done()
	if n.closing.Load() {
		c.close(CloseRestarting, "server restarting")
	}
	c.readLoop()
	c.cancel()
	c.drain()
	n.unregister(c)
}

// identify checks the credential: a ticket (POST /api/ws/ticket) in the
// URL, else an agent's login cookie or bearer header. A credential in
// the URL itself (access_token, link, customer_token) is refused unless
// Config.URLCredentials: URLs are logged by proxies and kept in
// browsers' histories.
func (n *Node) identify(r *http.Request) (*conn, error) {
	q := r.URL.Query()
	var cred rooms.Credential
	if q.Has("access_token") || q.Has("link") || q.Has("customer_token") {
		if !n.cfg.URLCredentials {
			return nil, rooms.ErrCredentialInURL
		}
		cred = rooms.Credential{Token: q.Get("access_token"), Link: q.Get("link"), Pass: q.Get("customer_token")}
	} else if ticket := q.Get("ticket"); ticket != "" {
		var err error
		if cred, err = n.tickets.Take(r.Context(), ticket); err != nil {
			return nil, err
		}
	} else {
		cred.Token = agentToken(r)
	}
	c := &conn{node: n, id: n.newConnID()}
	if cred.Link != "" {
		_, claims, err := n.gates.CustomerAuth(r.Context(), cred.Link, cred.Pass)
		if err != nil {
			return nil, err
		}
		c.role, c.link, c.custTok, c.claims = presence.RoleCustomer, cred.Link, cred.Pass, claims
		return c, nil
	}
	if cred.Token == "" {
		return nil, errUnauthenticated
	}
	a, err := n.accounts.Authenticate(r.Context(), cred.Token)
	if err != nil {
		return nil, err
	}
	c.role, c.agent, c.agentID, c.token = presence.RoleAgent, a, a.ID, cred.Token
	return c, nil
}

// agentToken is an agent's login token from the cookie or the
// Authorization header, for clients that open the socket without a
// ticket.
func agentToken(r *http.Request) string {
	if ck, err := r.Cookie("cohub_auth"); err == nil {
		return ck.Value
	}
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(t)
	}
	return ""
}

// writeError refuses an upgrade in the API's error shape, from the one
// table of codes.
func (n *Node) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errcode.Of(err)
	if e.Code == "internal" {
		n.log.Error().Err(err).Msg("upgrade refused: internal error")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": e.Code, "message": e.Text(err)}})
}
