package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cohub/cohub/internal/testclock"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

// A failed delivery is recorded on the session, never silent.
func TestFailedInvitationIsVisible(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer hook.Close()
	e := newEnv(t, "memory")
	e.sender = notify.Mux{Email: e.outbox, SMS: notify.NewSMSWebhook(hook.URL, nil)}
	e.start()

	s := e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
		"customer": map[string]string{"phone": "+14155550123"}}).want(201).session()
	if len(s.Invitations) != 1 || s.Invitations[0].Status != "failed" || s.Invitations[0].Error == "" {
		t.Fatalf("invitations = %+v", s.Invitations)
	}
	if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); got.Invitations[0].Status != "failed" {
		t.Fatalf("stored invitation = %+v", got.Invitations)
	}
}

// Team templates fill the invitation; a template without {{link}} gets
// the link appended.
func TestTeamTemplates(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var team rooms.Team
		e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&team)
		team.Settings.Templates = rooms.Templates{
			EmailSubject: "{{agent}} from ACME Bank", EmailBody: "Dear {{customer}}, {{agent}} is waiting: {{link}}",
			SMSBody: "ACME: your session with {{agent}}"}
		e.do("PUT", "/api/teams/"+e.sales, "admin", team).want(200)
		e.startSession("alex", "cara@example.com")
		e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
			"customer": map[string]string{"phone": "+14155550123"}}).want(201)
		msgs, err := e.outbox.List(t.Context(), 10)
		e.must(err)
		if len(msgs) != 2 {
			t.Fatalf("outbox has %d messages", len(msgs))
		}
		sms, mail := msgs[0], msgs[1]
		if mail.Subject != "Alex from ACME Bank" || !strings.HasPrefix(mail.Body, "Dear Cara Customer, Alex is waiting: http://cohub.test/c/") {
			t.Fatalf("email = %+v", mail)
		}
		if !strings.HasPrefix(sms.Body, "ACME: your session with Alex http://cohub.test/c/") {
			t.Fatalf("sms = %q", sms.Body)
		}
	})
}

// A PIN team needs a PIN at creation; gates start pending.
func TestPINTeam(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var team rooms.Team
		e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&team)
		team.Settings.CustomerAuthentication = "pin"
		team.Settings.Consent = rooms.ConsentSetting{Required: true, Text: "I agree to be recorded."}
		e.do("PUT", "/api/teams/"+e.sales, "admin", team).want(200)
		body := map[string]any{"mode": "start", "customer": map[string]string{"email": "cara@example.com"}}
		e.do("POST", "/api/sessions", "alex", body).wantField("pin")
		body["pin"] = "4821"
		e.do("POST", "/api/sessions", "alex", body).wantField("pin") // too short to resist guessing
		body["pin"] = "482193"
		s := e.do("POST", "/api/sessions", "alex", body).want(201).session()
		if s.Indicator.Authentication != rooms.AuthPending || s.Indicator.Consent != rooms.ConsentPending {
			t.Fatalf("indicator = %+v", s.Indicator)
		}
		if r := e.do("GET", "/api/sessions/"+s.ID, "alex", nil); strings.Contains(string(r.body), "482193") || strings.Contains(string(r.body), "pin_hash") {
			t.Fatalf("the session leaks its PIN: %s", r.body)
		}
		var v rooms.CustomerView
		e.customer("GET", "/api/customer/session", e.linkSentTo("cara@example.com")).want(200).into(&v)
		if v.Gates.Authentication != "pending" || v.Gates.Consent != "pending" || v.Session.Consent.Text == "" {
			t.Fatalf("customer view = %+v", v)
		}
		if len(v.Session.Tasks) != 0 {
			t.Fatal("tasks show before the gates are passed")
		}
	})
}

// With Redis down, requests answer 503 backend_unavailable and /readyz
// says not ready; when it is back, so is the server.
func TestRedisOutageAnswers503(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer rdb.Close()
	e := &env{t: t, backend: "redis", clock: testclock.New(e0()), agents: map[string]*rooms.Agent{}, tokens: map[string]string{}}
	set := app.RedisBackend(rdb, app.RedisBackendOptions{})
	e.store, e.outbox = set.Store, set.Outbox
	e.start()
	e.seed()
	e.do("GET", "/readyz", "", nil).want(200)
	srv.Stop()
	e.do("GET", "/readyz", "", nil).wantError(503, "backend_unavailable")
	r := e.do("GET", "/api/sessions", "alex", nil).wantError(503, "backend_unavailable")
	if strings.Contains(string(r.body), "127.0.0.1") {
		t.Fatalf("the error leaks backend detail: %s", r.body)
	}
	e.do("POST", "/api/login", "", map[string]string{"email": "alex@cohub.test", "password": testPassword}).wantError(503, "backend_unavailable")
	e.do("GET", "/healthz", "", nil).want(200)
	srv.Restart(t)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/readyz", "", nil).want(200)
	e.do("GET", "/api/sessions", "alex", nil).want(200)
}
