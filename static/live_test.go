package static

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/cohub/cohub/internal/browsertest"
)

// livePage runs live.js in a page and keeps what it reports in window.log.
const livePage = `<!doctype html><meta charset="utf-8"><script type="module">
import { Live, backoff } from "/js/live.js";
window.log = [];
window.backoff = backoff;
// Tickets t1, t2…; the second is refused, as an ended login's would be.
let tickets = 0;
const live = new Live(async () => {
  tickets++;
  if (tickets === 2) { throw new Error("refused"); }
  return "t" + tickets;
}, {
  failedOpen: () => log.push({ failedOpen: tickets }),
  frame: (f) => log.push({ frame: f.op, seq: f.seq || 0 }),
  joined: (t, d) => log.push({ joined: t, seq: d.seq }),
  state: (s) => log.push({ state: s }),
  final: (r) => log.push({ final: r }),
});
window.live = live;
live.join("room:s_1");
window.sent = live.send("room:s_1", "hello");
window.sent.done.then((r) => log.push({ sent: r.status, seq: r.data.seq }));
</script>`

// fakeConn is one WebSocket to the page, read frame by frame, with the
// ticket it opened with.
type fakeConn struct {
	t      *testing.T
	ws     *websocket.Conn
	ticket string
}

func (c fakeConn) read() map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("frame %s: %v", b, err)
	}
	return m
}

func (c fakeConn) write(frames ...string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(strings.Join(frames, "\n"))); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// expect reads the next frame and checks some of its fields.
func (c fakeConn) expect(op string, fields map[string]any) map[string]any {
	c.t.Helper()
	f := c.read()
	if f["op"] != op {
		c.t.Fatalf("got %v, want op %s", f, op)
	}
	for k, v := range fields {
		if fmt.Sprint(f[k]) != fmt.Sprint(v) {
			c.t.Fatalf("%s frame: %s = %v, want %v (%v)", op, k, f[k], v, f)
		}
	}
	return f
}

// TestLiveClientProtocol drives static/js/live.js against a scripted
// server: a paged join (more/next) is joined again from next with the
// same epoch; a send carries a client id, is retried after "overloaded"
// with the same id, survives a dropped connection (resent with the same
// id after the rejoin, which resumes from the last seq); a 4010 close is
// final. Each connection opens with a fresh ticket and none with a
// credential in its URL; a ticket refused is a refused opening, retried.
// Backoff has jitter within bounds.
func TestLiveClientProtocol(t *testing.T) {
	conns := make(chan fakeConn, 4)
	mux := http.NewServeMux()
	mux.Handle("/js/", Handler())
	mux.HandleFunc("/test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(livePage))
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"cohub.v1"}})
		if err != nil {
			return
		}
		if q := r.URL.Query(); len(q) != 1 {
			t.Errorf("the page opened %s", r.URL.RawQuery)
		}
		conns <- fakeConn{t: t, ws: ws, ticket: r.URL.Query().Get("ticket")}
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	next := func() fakeConn {
		t.Helper()
		select {
		case c := <-conns:
			t.Cleanup(func() { _ = c.ws.CloseNow() })
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("the page did not connect")
		}
		return fakeConn{}
	}

	b := browsertest.Start(t)
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+"/test")); err != nil {
		t.Fatal(err)
	}
	c := next()
	if c.ticket != "t1" {
		t.Fatalf("first connection's ticket %q", c.ticket)
	}
	j := c.expect("join", map[string]any{"topic": "room:s_1", "since": 0})
	c.write(fmt.Sprintf(`{"op":"reply","ref":%q,"status":"ok","data":{"more":true,"next":2,"epoch":"e1","seq":3}}`, j["ref"]),
		`{"op":"event","topic":"room:s_1","seq":1,"data":{"type":"message"}}`,
		`{"op":"event","topic":"room:s_1","seq":2,"data":{"type":"message"}}`)
	j = c.expect("join", map[string]any{"since": 2, "epoch": "e1"})
	c.write(fmt.Sprintf(`{"op":"reply","ref":%q,"status":"ok","data":{"seq":3,"epoch":"e1","recovered":true}}`, j["ref"]),
		`{"op":"event","topic":"room:s_1","seq":3,"data":{"type":"message"}}`)

	s := c.expect("send", map[string]any{"topic": "room:s_1"})
	id, _ := s["id"].(string)
	if len(id) != 36 {
		t.Fatalf("the send carries no client id: %v", s)
	}
	c.write(fmt.Sprintf(`{"op":"reply","ref":%q,"status":"error","data":{"code":"overloaded","retry_after_ms":100}}`, s["ref"]))
	c.expect("send", map[string]any{"id": id})
	// The connection drops before the answer: the send is not lost.
	_ = c.ws.Close(websocket.StatusServiceRestart, "restarting")

	// The second ticket is refused: the page hears of a refused opening
	// and the next try takes a third.
	c = next()
	if c.ticket != "t3" {
		t.Fatalf("the reconnection's ticket %q, want t3 (t2 was refused)", c.ticket)
	}
	if ok, err := chromedp.Run(b, chromedp.Evaluate[bool](`log.some(e => e.failedOpen === 2)`)); err != nil || !ok {
		t.Fatalf("a refused ticket did not count as a refused opening (%v)", err)
	}
	j = c.expect("join", map[string]any{"since": 3, "epoch": "e1"})
	c.write(fmt.Sprintf(`{"op":"reply","ref":%q,"status":"ok","data":{"seq":3,"epoch":"e1","recovered":true}}`, j["ref"]))
	s = c.expect("send", map[string]any{"id": id})
	c.write(fmt.Sprintf(`{"op":"reply","ref":%q,"status":"ok","data":{"seq":4}}`, s["ref"]),
		`{"op":"event","topic":"room:s_1","seq":4,"data":{"type":"message"}}`,
		`{"op":"event","topic":"room:s_1","seq":4,"data":{"type":"message"}}`)
	if err := chromedp.Do(b, chromedp.Poll[chromedp.Void](`log.some(e => e.sent === "ok" && e.seq === 4)`)); err != nil {
		t.Fatal(err)
	}
	_ = c.ws.Close(4010, "session ended")
	if err := chromedp.Do(b, chromedp.Poll[chromedp.Void](`log.some(e => e.final === "ended")`)); err != nil {
		t.Fatal(err)
	}

	got, err := chromedp.Run(b, chromedp.Evaluate[string](`JSON.stringify(log.filter(e => e.frame === "event").map(e => e.seq))`))
	if err != nil || got != "[1,2,3,4]" {
		t.Fatalf("events delivered: %s (%v); want each once, in order", got, err)
	}
	select {
	case <-conns:
		t.Fatal("the page reconnected after a final close")
	case <-time.After(time.Second): // asserting an absence
	}
	bounds, err := chromedp.Run(b, chromedp.Evaluate[string](
		`[0, 1, 5, 20].map(n => [backoff(n, () => 0), backoff(n, () => 1)].join("-")).join(" ")`))
	if err != nil || bounds != "250-500 500-1000 7500-15000 7500-15000" {
		t.Fatalf("backoff bounds: %q (%v)", bounds, err)
	}
}
