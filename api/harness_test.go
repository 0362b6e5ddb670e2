package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/testclock"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/sso"
	"github.com/cohub/cohub/webhooks"
)

// env is one Cohub server on one backend, with a known cast:
// admin (no team), sam the Sales supervisor, alex and blake (Sales
// agents), riley (Support agent).
type env struct {
	t       testing.TB
	backend string
	srv     *httptest.Server
	// readTimeout, when set, is the server's read timeout (cohub's is 30 s).
	readTimeout time.Duration
	// uploadIdle, when set, is Options.UploadIdle.
	uploadIdle time.Duration
	api        *api.Server
	svc        *rooms.Service
	store      rooms.Store
	outbox     notify.Outbox
	clock      *testclock.Clock
	sales      string
	support    string
	// signTeam is a team with a sign template, made when a test needs it.
	signTeam string
	// hooks keeps the webhooks, over restarts.
	hooks  webhooks.Store
	agents map[string]*rooms.Agent
	tokens map[string]string
	n      int             // numbers unique contacts
	sender notify.Sender   // nil: the outbox takes both channels
	logs   *logBuffer      // nil: logs go nowhere
	blobs  blobs.Store     // kept over restarts; mem:// unless a test sets it
	sealer *pdfsign.Sealer // nil: the identity derived from the secret
	oidc   *sso.Provider   // nil: no single sign-on
}

// logBuffer collects a server's log lines (written from many goroutines).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (e *env) logger() zerolog.Logger {
	if e.logs == nil {
		return zerolog.Nop()
	}
	return zerolog.New(e.logs).Level(zerolog.DebugLevel)
}

const testPassword = "correct-horse-battery"

// e0 is where test clocks start: now, to the second, as links carry seconds.
func e0() time.Time { return time.Now().UTC().Truncate(time.Second) }

// backends runs fn once per backend, as subtests.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range []string{"memory", "redis"} {
		t.Run(b, func(t *testing.T) { fn(t, newEnv(t, b)) })
	}
}

func newEnv(t testing.TB, backend string) *env {
	t.Helper()
	e := &env{t: t, backend: backend, clock: testclock.New(e0()),
		agents: map[string]*rooms.Agent{}, tokens: map[string]string{}}
	e.store, e.outbox, e.hooks = newBackend(t, backend)
	e.start()
	e.seed()
	return e
}

// newBackend is the store and outbox of a backend set (app's, as every
// server's). The API's tests run the domain and the HTTP edge without a
// live node: their readiness is the store's alone, and the hub's tests
// cover /ws.
func newBackend(t testing.TB, backend string) (rooms.Store, notify.Outbox, webhooks.Store) {
	set := app.MemoryBackend()
	if backend != "memory" {
		rdb, prefix := redistest.Client(t)
		set = app.RedisBackend(rdb, app.RedisBackendOptions{Prefix: prefix})
	}
	return set.Store, set.Outbox, set.Webhooks
}

// start serves a fresh server over the env's store, as a restart would.
func (e *env) start() {
	if e.srv != nil {
		e.srv.Close()
	}
	if e.blobs == nil {
		var err error
		e.blobs, err = blobs.Open(context.Background(), "mem://")
		e.must(err)
	}
	var sender notify.Sender = notify.Mux{Email: e.outbox, SMS: e.outbox}
	if e.sender != nil {
		sender = e.sender
	}
	e.svc = rooms.NewService(e.store, sender, rooms.Config{
		Secret: []byte("test-secret-0123456789"), PublicURL: "http://cohub.test",
		Now: e.clock.Now, BcryptCost: bcrypt.MinCost, Blobs: e.blobs, Sealer: e.sealer,
	}, e.logger())
	hooks := webhooks.NewService(e.hooks, webhooks.Options{Now: e.clock.Now}, e.logger())
	e.api = api.New(e.svc, e.outbox, api.Options{PublicURL: "http://cohub.test", UploadIdle: e.uploadIdle, Webhooks: hooks, SSO: e.oidc}, e.logger())
	e.srv = httptest.NewUnstartedServer(e.api.Handler())
	e.srv.Config.ReadTimeout = e.readTimeout
	e.srv.Start()
	e.t.Cleanup(e.srv.Close)
}

func (e *env) seed() {
	ctx := context.Background()
	sales, err := e.svc.Accounts.CreateTeam(ctx, "Sales", nil)
	e.must(err)
	support, err := e.svc.Accounts.CreateTeam(ctx, "Support", nil)
	e.must(err)
	e.sales, e.support = sales.ID, support.ID
	cast := []struct{ key, role, team string }{
		{"admin", rooms.RoleAdmin, ""},
		{"sam", rooms.RoleSupervisor, e.sales},
		{"alex", rooms.RoleAgent, e.sales},
		{"blake", rooms.RoleAgent, e.sales},
		{"riley", rooms.RoleAgent, e.support},
	}
	for _, c := range cast {
		a, err := e.svc.Accounts.CreateAgent(ctx, rooms.AgentInput{Agent: rooms.Agent{
			Email: c.key + "@cohub.test", Name: strings.ToUpper(c.key[:1]) + c.key[1:], Role: c.role, TeamID: c.team,
		}, Password: testPassword})
		e.must(err)
		e.agents[c.key] = a
		e.tokens[c.key] = e.login(c.key+"@cohub.test", testPassword)
	}
}

func (e *env) login(email, password string) string {
	r := e.do("POST", "/api/login", "", map[string]string{"email": email, "password": password})
	r.want(200)
	var out struct{ Token string }
	r.into(&out)
	return out.Token
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// resp is a finished request.
type resp struct {
	t      testing.TB
	status int
	header http.Header
	body   []byte
}

// do sends a request as one of the cast (by key), with a raw bearer
// token, or anonymously (""). body may be nil, a string (sent as is) or
// a value to encode.
func (e *env) do(method, path, who string, body any) *resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, encodeBody(body))
	e.must(err)
	if f, ok := body.(*upload); ok {
		req.Header.Set("Content-Type", f.contentType)
	}
	if tok, ok := e.tokens[who]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if who != "" {
		req.Header.Set("Authorization", who)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) *resp {
	e.t.Helper()
	res, err := e.client(http.DefaultClient).Do(req)
	e.must(err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	e.must(err)
	return &resp{t: e.t, status: res.StatusCode, header: res.Header, body: b}
}

func encodeBody(body any) io.Reader {
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	case []byte:
		return bytes.NewReader(b)
	case *upload:
		return bytes.NewReader(b.body)
	default:
		j, _ := json.Marshal(b)
		return bytes.NewReader(j)
	}
}

// want fails the test unless the status matches.
func (r *resp) want(status int) *resp {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// wantError checks the status and the error code.
func (r *resp) wantError(status int, code string) *resp {
	r.t.Helper()
	r.want(status)
	if got := r.code(); got != code {
		r.t.Fatalf("error code %q, want %q: %s", got, code, r.body)
	}
	return r
}

// wantField checks a validation_failed names a field.
func (r *resp) wantField(field string) *resp {
	r.t.Helper()
	r.wantError(400, "validation_failed")
	var out struct {
		Error struct{ Fields map[string]string }
	}
	r.into(&out)
	if _, ok := out.Error.Fields[field]; !ok {
		r.t.Fatalf("fields %v do not name %q", out.Error.Fields, field)
	}
	return r
}

func (r *resp) code() string {
	var out struct{ Error struct{ Code string } }
	_ = json.Unmarshal(r.body, &out)
	return out.Error.Code
}

func (r *resp) into(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r *resp) session() *rooms.Session {
	r.t.Helper()
	var s rooms.Session
	r.into(&s)
	return &s
}

// startSession starts a session as who for a customer email.
func (e *env) startSession(who, email string) *rooms.Session {
	e.t.Helper()
	return e.do("POST", "/api/sessions", who, map[string]any{
		"mode": "start", "customer": map[string]string{"name": "Cara Customer", "email": email},
	}).want(201).session()
}

// preplan pre-plans a session as who.
func (e *env) preplan(who, email string) *rooms.Session {
	e.t.Helper()
	return e.do("POST", "/api/sessions", who, map[string]any{
		"mode": "preplan", "customer": map[string]string{"email": email},
	}).want(201).session()
}

// linkSentTo returns the token of the newest link the outbox sent to.
func (e *env) linkSentTo(to string) string {
	e.t.Helper()
	msgs, err := e.outbox.List(context.Background(), 1000)
	e.must(err)
	for _, m := range msgs {
		if m.To == to {
			i := strings.Index(m.Body, "http://cohub.test/c/")
			if i < 0 {
				continue // a one-time code, not a link
			}
			tok := m.Body[i+len("http://cohub.test/c/"):]
			if j := strings.IndexAny(tok, " \n\r\t"); j >= 0 {
				tok = tok[:j]
			}
			return tok
		}
	}
	e.t.Fatalf("nothing sent to %s", to)
	return ""
}

// customer calls a customer route with a link token.
func (e *env) customer(method, path, token string) *resp {
	e.t.Helper()
	return e.do(method, path, "Link "+token, nil)
}

// joinAsCustomer marks the customer as having entered the room, as the
// live hub does on a customer's first WebSocket join.
func (e *env) joinAsCustomer(id string) {
	e.t.Helper()
	_, err := e.svc.Gates.CustomerJoined(context.Background(), id)
	e.must(err)
}
