package wsclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

// server is a whole Cohub on the memory backend, with replay pages of 4
// events and the message rate given; it returns its address, an
// agent's token and a room's id and link.
func server(t *testing.T, rate float64, burst int) (base, token, room, link string) {
	t.Helper()
	return serverWith(t, rate, burst, hub.Config{ReplayPage: 4})
}

// serverWith is server with the hub's settings given.
func serverWith(t *testing.T, rate float64, burst int, hc hub.Config) (base, token, room, link string) {
	t.Helper()
	a := app.New(app.MemoryBackend(), app.Config{Rooms: rooms.Config{
		Secret: []byte("wsclient-test-secret-01"), PublicURL: "http://cohub.test", BcryptCost: bcrypt.MinCost,
		MessageRate: rate, MessageBurst: burst,
	}, Hub: hc, Log: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	team, err := a.Service.Accounts.CreateTeam(ctx, "T", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Accounts.CreateAgent(ctx, rooms.AgentInput{Agent: rooms.Agent{Email: "a@cohub.test", Name: "A",
		Role: rooms.RoleAgent, TeamID: team.ID}, Password: "a-password-1"}); err != nil {
		t.Fatal(err)
	}
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); cancel() })
	call := func(path string, body, into any) {
		t.Helper()
		var r io.Reader = http.NoBody
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest("POST", srv.URL+path, r)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode >= 300 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	var l struct{ Token string }
	call("/api/login", map[string]string{"email": "a@cohub.test", "password": "a-password-1"}, &l)
	token = l.Token
	var s struct{ ID string }
	call("/api/sessions", map[string]any{"mode": "start", "customer": map[string]string{
		"name": "C", "email": "c@example.com"}}, &s)
	var u struct{ URL string }
	call("/api/sessions/"+s.ID+"/link", nil, &u)
	return srv.URL, token, s.ID, u.URL[strings.LastIndex(u.URL, "/")+1:]
}

func dial(t *testing.T, base string, cred wsclient.Credential) *wsclient.Conn {
	t.Helper()
	return dialWith(t, base, cred, nil)
}

// recording dials with Options.Record.
func recording(t *testing.T, base string, cred wsclient.Credential) *wsclient.Conn {
	t.Helper()
	return dialWith(t, base, cred, &wsclient.Options{Record: true})
}

func dialWith(t *testing.T, base string, cred wsclient.Credential, o *wsclient.Options) *wsclient.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsclient.Open(ctx, base, cred, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func isReply(ref string) func(wsclient.Frame) bool {
	return func(f wsclient.Frame) bool { return f.Op == "reply" && f.Ref == ref }
}

func isText(topic, text string) func(wsclient.Frame) bool {
	return func(f wsclient.Frame) bool {
		var d struct{ Text string }
		_ = json.Unmarshal(f.Data, &d)
		return isMessage(topic)(f) && d.Text == text
	}
}

func isMessage(topic string) func(wsclient.Frame) bool {
	return func(f wsclient.Frame) bool {
		var d struct{ Type string }
		_ = json.Unmarshal(f.Data, &d)
		return f.Op == "event" && f.Topic == topic && d.Type == "message"
	}
}

func TestProtocol(t *testing.T) {
	base, token, id, link := server(t, 1000, 1000)
	topic := "room:" + id
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A forged credential is refused before the upgrade, with its answer.
	_, err := wsclient.Open(ctx, base, wsclient.Agent("forged"), nil)
	if res := wsclient.Response(err); res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged token: %v", err)
	}

	agent := dial(t, base, wsclient.Agent(token))
	cust := dial(t, base, wsclient.Customer(link, ""))
	if err := agent.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	// Refusals are typed and keep the connection.
	_, err = cust.Send(ctx, topic, "early", map[string]string{"text": "x"})
	var e *wsclient.Error
	if !errors.As(err, &e) || e.Code != "not_joined" || e.Op != "send" || e.Message == "" {
		t.Fatalf("send before join: %v", err)
	}

	data, err := agent.Join(ctx, topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := wsclient.ParseJoin(data); r.Epoch == "" || r.More || !strings.Contains(string(data), `"session"`) {
		t.Fatalf("agent join reply: %s", data)
	}
	if _, err := cust.Join(ctx, topic, nil); err != nil {
		t.Fatal(err)
	}

	// Named sends: the same id is logged once, and both see it.
	seq, err := cust.Send(ctx, topic, "c-1", map[string]string{"text": "hello"})
	if err != nil || seq == 0 {
		t.Fatalf("send: %d %v", seq, err)
	}
	again, err := cust.Send(ctx, topic, "c-1", map[string]string{"text": "hello"})
	if err != nil || again != seq {
		t.Fatalf("resend: %d %v, want seq %d", again, err, seq)
	}
	f, err := agent.Await(ctx, isMessage(topic))
	if err != nil || f.Seq != seq || !strings.Contains(string(f.Data), "hello") {
		t.Fatalf("agent's event: %+v %v", f, err)
	}

	// Await honours its context.
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if _, err := agent.Await(short, func(wsclient.Frame) bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("await past its deadline: %v", err)
	}

	// Paging: ten more messages, pages of four; JoinAll replays them all
	// in order from the first message and ends joined.
	for i := range 10 {
		if _, err := cust.Send(ctx, topic, fmt.Sprintf("c-%d", i+2), map[string]string{"text": "m"}); err != nil {
			t.Fatal(err)
		}
	}
	late := dial(t, base, wsclient.Agent(token))
	first, err := late.Join(ctx, topic, &wsclient.Since{Seq: seq - 1})
	if r := wsclient.ParseJoin(first); err != nil || !r.More || r.Next == 0 {
		t.Fatalf("first page: %s %v", first, err)
	}
	if err := late.Close(); err != nil {
		t.Fatal(err)
	}
	late = dial(t, base, wsclient.Agent(token))
	data, err = late.JoinAll(ctx, topic, &wsclient.Since{Seq: seq - 1, Epoch: wsclient.ParseJoin(first).Epoch})
	if r := wsclient.ParseJoin(data); err != nil || r.More || r.Recovered == nil || !*r.Recovered {
		t.Fatalf("last page: %s %v", data, err)
	}
	var seqs []int64
	for len(seqs) < 11 {
		f, err := late.Await(ctx, isMessage(topic))
		if err != nil {
			t.Fatalf("replay after %v: %v", seqs, err)
		}
		seqs = append(seqs, f.Seq)
	}
	for i, s := range seqs {
		if i > 0 && s <= seqs[i-1] {
			t.Fatalf("replayed out of order: %v", seqs)
		}
	}
	if seqs[0] != seq {
		t.Fatalf("replay began at %d, want %d", seqs[0], seq)
	}

	// Leave, then a send there is refused.
	if err := agent.Leave(ctx, topic); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Send(ctx, topic, "", map[string]string{"text": "x"}); !errors.As(err, &e) || e.Code != "not_joined" {
		t.Fatalf("send after leave: %v", err)
	}

	// Close ends Events, and calls on an ended connection fail.
	if err := cust.Close(); err != nil {
		t.Fatal(err)
	}
	for range cust.Events() {
	}
	if cust.Err() == nil {
		t.Fatal("closed connection has no Err")
	}
	if err := cust.Ping(ctx); err == nil {
		t.Fatal("ping on a closed connection")
	}
}

// TestRetryAfter: a send past the rate carries retry_after_ms.
func TestRetryAfter(t *testing.T) {
	base, token, id, _ := server(t, 1, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	agent := dial(t, base, wsclient.Agent(token))
	if _, err := agent.Join(ctx, "room:"+id, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		_, err := agent.Send(ctx, "room:"+id, fmt.Sprint(i), map[string]string{"text": "x"})
		var e *wsclient.Error
		if errors.As(err, &e) {
			if e.Code != "rate_limited" || e.RetryAfter() <= 0 {
				t.Fatalf("refusal: %+v", e)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("10 sends were never rate limited")
}

// TestRecord: a recording connection keeps every frame, each taken once,
// and sends raw frames.
func TestRecord(t *testing.T) {
	base, token, id, link := server(t, 1000, 1000)
	topic := "room:" + id
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	agent := dial(t, base, wsclient.Agent(token))
	cust := recording(t, base, wsclient.Customer(link, ""))

	// Take needs a record.
	if _, err := agent.Take(ctx, isMessage(topic)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take without a record: %v", err)
	}

	// A call's reply is recorded, as taken.
	if _, err := cust.Join(ctx, topic, nil); err != nil {
		t.Fatal(err)
	}
	replies := cust.Frames(func(f wsclient.Frame) bool { return f.Op == "reply" })
	if len(replies) != 1 || !strings.Contains(replies[0].Raw, `"op":"reply"`) || !strings.Contains(replies[0].Raw, `"epoch"`) {
		t.Fatalf("recorded replies: %+v", replies)
	}
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if f, err := cust.Take(short, isReply(replies[0].Ref)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call's reply taken again: %+v %v", f, err)
	}

	// Frames no call awaits are recorded, not sent to Events, and each
	// is taken once, whatever the order they are asked for in.
	if _, err := agent.Join(ctx, topic, nil); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"one", "two", "three"} {
		if _, err := agent.Send(ctx, topic, fmt.Sprint("a-", i), map[string]string{"text": text}); err != nil {
			t.Fatal(err)
		}
	}
	three, err := cust.Take(ctx, isText(topic, "three"))
	if err != nil || !strings.Contains(three.Raw, `"three"`) {
		t.Fatalf("three: %+v %v", three, err)
	}
	one, err := cust.Await(ctx, isMessage(topic)) // Await is Take on a record
	if err != nil || !strings.Contains(one.Raw, `"one"`) {
		t.Fatalf("the first message not taken: %+v %v", one, err)
	}
	msgs := cust.Frames(isMessage(topic))
	if len(msgs) != 3 || msgs[0].Seq != one.Seq || msgs[2].Seq != three.Seq || msgs[1].Seq <= one.Seq || msgs[1].Seq >= three.Seq {
		t.Fatalf("recorded messages: %+v", msgs)
	}
	select {
	case f, ok := <-cust.Events():
		t.Fatalf("a recording connection's Events gave %+v %v", f, ok)
	default:
	}

	// A raw frame goes as it is: here an unknown op, refused by ref.
	if err := cust.WriteRaw(ctx, []byte(`{"op":"nope","ref":"raw-1"}`)); err != nil {
		t.Fatal(err)
	}
	if r, err := cust.Take(ctx, isReply("raw-1")); err != nil || r.Status != "error" {
		t.Fatalf("unknown op's reply: %+v %v", r, err)
	}

	// After the end, what came before is still there to take, once;
	// then Take says the connection ended.
	if err := cust.CloseWith(4000, "done here"); err != nil {
		t.Fatal(err)
	}
	if two, err := cust.Take(ctx, isMessage(topic)); err != nil || !strings.Contains(two.Raw, `"two"`) {
		t.Fatalf("the second message after the end: %+v %v", two, err)
	}
	if f, err := cust.Take(ctx, isMessage(topic)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a fourth message after the end: %+v %v", f, err)
	}
	if cust.Err() == nil {
		t.Fatal("closed connection has no Err")
	}

	// Text that is not UTF-8 is the server's to refuse: it closes with
	// 1007.
	garbled := recording(t, base, wsclient.Agent(token))
	if err := garbled.WriteRaw(ctx, []byte("{\"op\":\"ping\",\"ref\":\"\xff\"}")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-garbled.Done():
	case <-ctx.Done():
		t.Fatal("invalid UTF-8 did not close the connection")
	}
	if code := garbled.CloseStatus(); code != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("closed with %d, want 1007", code)
	}
}

// TestStall: a stalled connection reads nothing and answers no pings
// until it resumes.
func TestStall(t *testing.T) {
	base, token, id, link := serverWith(t, 1000, 1000, hub.Config{PingEvery: 300 * time.Millisecond,
		PongWait: 200 * time.Millisecond, Tick: 50 * time.Millisecond, LeaveGrace: 200 * time.Millisecond})
	topic := "room:" + id
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	online := func(want bool) func(wsclient.Frame) bool {
		return func(f wsclient.Frame) bool {
			var d struct{ Online bool }
			_ = json.Unmarshal(f.Data, &d)
			return f.Op == "status" && f.Topic == topic && d.Online == want
		}
	}
	agent := dial(t, base, wsclient.Agent(token))
	silent := recording(t, base, wsclient.Customer(link, ""))
	for _, c := range []*wsclient.Conn{agent, silent} {
		if _, err := c.Join(ctx, topic, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := agent.Await(ctx, online(true)); err != nil {
		t.Fatal(err)
	}

	// Stalled, the customer leaves the server's pings unanswered: the
	// server drops it, and the agent sees it go offline. Resumed, it
	// finds its connection gone. The ping Stall sent was answered, as a
	// call's.
	if err := silent.Stall(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Await(ctx, online(false)); err != nil {
		t.Fatalf("a customer answering no pings: %v", err)
	}
	silent.Resume()
	select {
	case <-silent.Done():
	case <-ctx.Done():
		t.Fatal("a dropped connection still open after Resume")
	}
	isStall := func(f wsclient.Frame) bool { return f.Op == "reply" && strings.HasPrefix(f.Ref, "stall-") }
	if r := silent.Frames(isStall); len(r) != 1 || r[0].Status != "ok" {
		t.Fatalf("Stall's ping's reply: %+v", r)
	}
	if f, err := silent.Take(ctx, isStall); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stall's reply left to take: %+v %v", f, err)
	}
}

// TestStallAfter: StallAfter holds what follows the reply until Resume,
// which reads on; a stall never reached is dropped by Resume.
func TestStallAfter(t *testing.T) {
	base, token, id, _ := server(t, 1000, 1000)
	topic := "room:" + id
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	agent := dial(t, base, wsclient.Agent(token))
	if _, err := agent.Join(ctx, topic, nil); err != nil {
		t.Fatal(err)
	}
	held := recording(t, base, wsclient.Agent(token))
	if _, err := held.Join(ctx, topic, nil); err != nil {
		t.Fatal(err)
	}
	held.StallAfter("here")
	if err := held.WriteRaw(ctx, []byte(`{"op":"ping","ref":"here"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := held.Take(ctx, isReply("here")); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Send(ctx, topic, "while-held", map[string]string{"text": "while held"}); err != nil {
		t.Fatal(err)
	}
	held.Resume()
	if _, err := held.Take(ctx, isText(topic, "while held")); err != nil {
		t.Fatal(err)
	}
	held.StallAfter("never")
	held.Resume()
	if err := held.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
