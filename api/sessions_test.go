package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

// The newcomer's path: log in, start a session, find the invitation in
// the outbox, open its link as the customer.
func TestStartSessionInvitesCustomer(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.startSession("alex", "cara@example.com")
		if s.State != rooms.StateActive || s.Mode != "start" || s.AgentID != e.agents["alex"].ID || s.TeamID != e.sales {
			t.Fatalf("session = %+v", s)
		}
		if !strings.HasPrefix(s.ID, "s_") || len(s.ID) != 28 {
			t.Fatalf("session id %q is not s_ + ULID", s.ID)
		}
		if len(s.Invitations) != 1 || s.Invitations[0].Status != "sent" || s.Invitations[0].Channel != "email" ||
			s.Invitations[0].To != "cara@example.com" {
			t.Fatalf("invitations = %+v", s.Invitations)
		}
		if s.Indicator.State != rooms.NeverJoined || s.Indicator.Authentication != rooms.AuthNotRequired {
			t.Fatalf("indicator = %+v", s.Indicator)
		}
		var outbox struct{ Messages []notify.Message }
		e.do("GET", "/api/outbox", "admin", nil).want(200).into(&outbox)
		if len(outbox.Messages) != 1 || outbox.Messages[0].SessionID != s.ID || outbox.Messages[0].Subject == "" {
			t.Fatalf("outbox = %+v", outbox)
		}
		tok := e.linkSentTo("cara@example.com")
		page := e.do("GET", "/c/"+tok, "", nil).want(200)
		if !strings.Contains(string(page.body), "customer.js") || page.header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("customer page: %s %v", page.body, page.header)
		}
		var view rooms.CustomerView
		e.customer("GET", "/api/customer/session", tok).want(200).into(&view)
		if view.Session.ID != s.ID || view.Access != "full" || view.Session.Customer.Name != "Cara Customer" || view.Agent != "Alex" {
			t.Fatalf("customer view = %+v", view)
		}
		if strings.Contains(string(e.customer("GET", "/api/customer/session", tok).body), "cara@example.com") {
			t.Fatal("the customer view leaks the contact")
		}
	})
}

func TestPreplanThenInvite(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.do("POST", "/api/sessions", "alex", map[string]any{
			"mode": "preplan", "customer": map[string]string{"phone": "(415) 555-0123"},
			"tasks": []map[string]string{{"kind": "sign", "title": "Sign the offer"}},
		}).want(201).session()
		if s.State != rooms.StatePlanned || len(s.Invitations) != 0 || s.Customer.Phone != "+14155550123" || len(s.Tasks) != 1 {
			t.Fatalf("planned = %+v", s)
		}
		e.do("POST", "/api/sessions/"+s.ID+"/link", "alex", nil).wantError(409, "invalid_state")
		got := e.do("POST", "/api/sessions/"+s.ID+"/invite", "alex", nil).want(200).session()
		if got.State != rooms.StateActive || len(got.Invitations) != 1 || got.Invitations[0].Channel != "sms" {
			t.Fatalf("invited = %+v", got)
		}
		_ = e.linkSentTo("+14155550123")
		e.do("POST", "/api/sessions/"+s.ID+"/invite", "alex", "{}").wantError(409, "invalid_state")
	})
}

func TestTasks(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		team, err := e.store.Team(ctx, e.sales)
		e.must(err)
		team.Settings.TaskTemplates = []rooms.TaskTemplate{{Kind: "consent", Title: "Agree to terms"}}
		e.must(e.store.PutTeam(ctx, team))
		s := e.startSession("alex", "cara@example.com")
		task := e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]any{"template": 0}).want(201)
		var t1 rooms.Task
		task.into(&t1)
		if t1.Kind != "consent" || t1.Title != "Agree to terms" || t1.Status != "pending" || !strings.HasPrefix(t1.ID, "k_") {
			t.Fatalf("task from template = %+v", t1)
		}
		var t2 rooms.Task
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]any{"kind": "upload", "title": "Your ID"}).want(201).into(&t2)
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]any{"template": 5}).wantField("template")
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]any{"kind": "dance", "title": ""}).wantField("kind").wantField("title")

		after := e.do("DELETE", "/api/sessions/"+s.ID+"/tasks/"+t1.ID, "alex", nil).want(200).session()
		if len(after.Tasks) != 1 || after.Tasks[0].ID != t2.ID {
			t.Fatalf("after withdraw: %+v", after.Tasks)
		}
		e.do("DELETE", "/api/sessions/"+s.ID+"/tasks/"+t1.ID, "alex", nil).wantError(404, "not_found")
		var evs struct{ Events []rooms.Event }
		e.do("GET", "/api/sessions/"+s.ID+"/events", "alex", nil).want(200).into(&evs)
		types := eventTypes(evs.Events)
		if types != "task.assigned task.assigned task.withdrawn" {
			t.Fatalf("events: %s", types)
		}
		for i, ev := range evs.Events {
			if ev.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d", i, ev.Seq)
			}
		}
		e.do("GET", "/api/sessions/"+s.ID+"/events?since=2", "alex", nil).want(200).into(&evs)
		if len(evs.Events) != 1 || evs.Events[0].TaskID != t1.ID {
			t.Fatalf("events since 2: %+v", evs.Events)
		}
		e.do("GET", "/api/sessions/"+s.ID+"/events?since=x", "alex", nil).wantField("since")
	})
}

func eventTypes(evs []rooms.Event) string {
	var b []string
	for _, e := range evs {
		b = append(b, e.Type)
	}
	return strings.Join(b, " ")
}

func TestReengage(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.startSession("alex", "wrong@example.com")
		old := e.linkSentTo("wrong@example.com")
		got := e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"name": "Cara", "email": "right@example.com"}}).want(200).session()
		if got.Customer.Email != "right@example.com" || len(got.Invitations) != 2 || got.Invitations[1].To != "right@example.com" {
			t.Fatalf("re-engaged = %+v", got)
		}
		e.customer("GET", "/api/customer/session", old).wantError(410, "link_revoked")
		fresh := e.linkSentTo("right@example.com")
		e.customer("GET", "/api/customer/session", fresh).want(200)

		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "not-an-email"}}).wantField("customer.email")
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{}).wantField("customer")
		unchanged := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session()
		if unchanged.Customer.Email != "right@example.com" {
			t.Fatalf("bad input changed the customer: %+v", unchanged.Customer)
		}

		e.joinAsCustomer(s.ID)
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "third@example.com"}}).wantError(409, "customer_already_joined")
		e.customer("GET", "/api/customer/session", fresh).want(200)
	})
}

func TestReengagePlannedSendsNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.preplan("alex", "wrong@example.com")
		got := e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "right@example.com"}}).want(200).session()
		if got.State != rooms.StatePlanned || len(got.Invitations) != 0 {
			t.Fatalf("planned re-engage = %+v", got)
		}
		msgs, err := e.outbox.List(t.Context(), 10)
		e.must(err)
		if len(msgs) != 0 {
			t.Fatalf("re-engage of a planned session sent %d messages", len(msgs))
		}
	})
}

func TestEndAndRenew(t *testing.T) {
	for _, mode := range []struct {
		access     rooms.EndAccess
		during     string // what the link shows while ended, within the window
		afterHours int    // when the window closes
	}{
		{rooms.EndAccess{Mode: rooms.AccessNone}, "session_ended", 0},
		{rooms.EndAccess{Mode: rooms.AccessFull}, "full", 0},
		{rooms.EndAccess{Mode: rooms.AccessFullFor, Duration: rooms.Duration(2 * time.Hour)}, "full", 2},
		{rooms.EndAccess{Mode: rooms.AccessLimitedFor, Duration: rooms.Duration(2 * time.Hour)}, "limited", 2},
	} {
		t.Run(mode.access.Mode, func(t *testing.T) {
			backends(t, func(t *testing.T, e *env) {
				set := rooms.DefaultSettings()
				set.EndSessionAccess = mode.access
				e.do("PUT", "/api/settings", "admin", set).want(200)
				s := e.startSession("alex", "cara@example.com")
				task := e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
				_ = task
				tok := e.linkSentTo("cara@example.com")
				ended := e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).want(200).session()
				if ended.State != rooms.StateEnded || ended.EndedAt == nil || ended.Access == nil || ended.Access.Mode != mode.access.Mode {
					t.Fatalf("ended = %+v", ended)
				}
				e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).wantError(409, "invalid_state")
				e.do("POST", "/api/sessions/"+s.ID+"/link", "alex", nil).wantError(409, "invalid_state")
				e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "x"}).wantError(409, "invalid_state")
				e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
					"customer": map[string]string{"email": "x@example.com"}}).wantError(409, "invalid_state")

				r := e.customer("GET", "/api/customer/session", tok)
				if mode.during == "session_ended" {
					r.wantError(410, "session_ended")
				} else {
					var v rooms.CustomerView
					r.want(200).into(&v)
					if v.Access != mode.during || v.Session.State != rooms.StateEnded {
						t.Fatalf("view while ended = %+v", v)
					}
				}
				if mode.afterHours > 0 {
					e.clock.Advance(time.Duration(mode.afterHours)*time.Hour + time.Second)
					e.customer("GET", "/api/customer/session", tok).wantError(410, "session_ended")
				}

				renewed := e.do("POST", "/api/sessions/"+s.ID+"/renew", "alex", nil).want(200).session()
				if renewed.State != rooms.StateActive || renewed.EndedAt != nil || renewed.Access != nil ||
					len(renewed.Tasks) != 1 || renewed.Customer != s.Customer || len(renewed.Invitations) != 1 {
					t.Fatalf("renewed = %+v", renewed)
				}
				e.customer("GET", "/api/customer/session", tok).want(200)
				e.do("POST", "/api/sessions/"+s.ID+"/renew", "alex", nil).wantError(409, "invalid_state")
				var evs struct{ Events []rooms.Event }
				e.do("GET", "/api/sessions/"+s.ID+"/events", "alex", nil).want(200).into(&evs)
				// The customer's first look at the link is logged too.
				if got := eventTypes(evs.Events); got != "task.assigned session.ended session.renewed customer.opened" {
					t.Fatalf("events = %s", got)
				}
			})
		})
	}
}

func TestRenewRestoresPlanned(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.preplan("alex", "cara@example.com")
		e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).want(200)
		got := e.do("POST", "/api/sessions/"+s.ID+"/renew", "alex", nil).want(200).session()
		if got.State != rooms.StatePlanned {
			t.Fatalf("a cancelled plan renewed to %q", got.State)
		}
	})
}

func TestLinks(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.startSession("alex", "cara@example.com")
		first := e.linkSentTo("cara@example.com")
		var link rooms.Link
		e.do("POST", "/api/sessions/"+s.ID+"/link", "alex", nil).want(200).into(&link)
		if !strings.HasPrefix(link.URL, "http://cohub.test/c/") || !link.ExpiresAt.Equal(e.clock.Now().Add(72*time.Hour)) {
			t.Fatalf("link = %+v", link)
		}
		second := strings.TrimPrefix(link.URL, "http://cohub.test/c/")
		e.customer("GET", "/api/customer/session", first).want(200)
		e.customer("GET", "/api/customer/session", second).want(200)

		forged := second[:len(second)-2] + "xx"
		e.customer("GET", "/api/customer/session", forged).wantError(401, "unauthenticated")
		e.customer("GET", "/api/customer/session", "garbage").wantError(401, "unauthenticated")
		e.do("GET", "/api/customer/session", "", nil).wantError(401, "unauthenticated")

		e.clock.Advance(72*time.Hour + time.Second)
		e.customer("GET", "/api/customer/session", second).wantError(410, "link_expired")
		sent := e.customer("POST", "/api/customer/new-link", second).want(202)
		var out rooms.NewLinkSent
		sent.into(&out)
		if out.Channel != "email" || out.To == "cara@example.com" || !strings.HasSuffix(out.To, "@example.com") {
			t.Fatalf("new-link reply = %+v (the contact must come back masked)", out)
		}
		if strings.Contains(string(sent.body), "/c/") {
			t.Fatal("new-link must not hand the link to whoever holds the old one")
		}
		fresh := e.linkSentTo("cara@example.com")
		if fresh == second || fresh == first {
			t.Fatal("no fresh link was sent")
		}
		e.customer("GET", "/api/customer/session", fresh).want(200)
		e.customer("POST", "/api/customer/new-link", second).wantError(429, "rate_limited")
	})
}

func TestSessionValidation(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		post := func(body any) *resp { return e.do("POST", "/api/sessions", "alex", body) }
		post(map[string]any{"mode": "later", "customer": map[string]string{"email": "a@example.com"}}).wantField("mode")
		post(map[string]any{"mode": "start", "customer": map[string]string{}}).wantField("customer")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com", "phone": "+14155550123"}}).wantField("customer")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "nope"}}).wantField("customer.email")
		post(map[string]any{"mode": "start", "customer": map[string]string{"phone": "12"}}).wantField("customer.phone")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com"},
			"tasks": []map[string]string{{"kind": "sign", "title": "ok"}, {"kind": "bad", "title": "x"}}}).wantField("tasks[1].kind")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com"}, "color": "red"}).wantField("color")
		post(map[string]any{"mode": 5, "customer": map[string]string{"email": "a@example.com"}}).wantField("mode")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com", "fax": "1"}}).wantField("customer.fax")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com"},
			"tasks": []map[string]string{{"kind": "sign", "title": "ok"}, {"kind": "sign", "due": "x"}}}).wantField("tasks[1].due")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com"}, "settings_team_id": "t_none"}).wantField("settings_team_id")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com"}, "settings_team_id": e.support}).wantField("settings_team_id")
		post(map[string]any{"mode": "start", "customer": map[string]string{"email": "a@example.com"}, "pin": "12"}).wantField("pin")
		post(`{"mode": "start",`).wantError(400, "malformed_json")
		post(`[1,2]`).wantField("body")
		big := `{"mode":"start","customer":{"name":"` + strings.Repeat("x", 1<<20) + `"}}`
		post(big).wantError(413, "body_too_large")

		var h rooms.History
		e.do("GET", "/api/sessions?scope=all", "admin", nil).want(200).into(&h)
		if len(h.Sessions) != 0 {
			t.Fatalf("bad input created %d sessions", len(h.Sessions))
		}
	})
}

func TestSMSDisabledAndExternal(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		set := rooms.DefaultSettings()
		set.SMSEnabled = false
		e.do("PUT", "/api/settings", "admin", set).want(200)
		e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
			"customer": map[string]string{"phone": "+14155550123"}}).wantError(400, "sms_disabled")

		set.InvitationMode = rooms.InviteExternal
		e.do("PUT", "/api/settings", "admin", set).want(200)
		s := e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
			"customer": map[string]string{"phone": "+14155550123", "email": "both@example.com"}}).want(201).session()
		if len(s.Invitations) != 1 || s.Invitations[0].Status != "skipped" {
			t.Fatalf("external mode invitations = %+v", s.Invitations)
		}
		msgs, err := e.outbox.List(t.Context(), 10)
		e.must(err)
		if len(msgs) != 0 {
			t.Fatalf("external mode sent %d messages", len(msgs))
		}
		var link rooms.Link
		e.do("POST", "/api/sessions/"+s.ID+"/link", "alex", nil).want(200).into(&link)
		tok := strings.TrimPrefix(link.URL, "http://cohub.test/c/")
		e.customer("POST", "/api/customer/new-link", tok).wantError(409, "invalid_state")
	})
}

// Reading a session changes nothing: a GET (which a cross-site link
// can make with the SameSite=Lax cookie) leaves "updated" as it is.
// POST …/seen, an Origin-checked change, clears it for the session's own
// agent only; a supervisor's leaves it for the agent.
func TestGetLeavesUpdatedSeenClearsIt(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.startSession("alex", "cara@example.com")
		e.joinAsCustomer(s.ID)
		updated := func() bool {
			t.Helper()
			st, err := e.store.Session(t.Context(), s.ID)
			e.must(err)
			return st.Updated
		}
		if got := e.do("GET", "/api/sessions/"+s.ID, "sam", nil).want(200).session(); !got.Updated {
			t.Fatal("customer join did not mark the session updated")
		}
		if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); !got.Updated || !updated() {
			t.Fatal("the agent's own GET cleared updated")
		}
		// A cross-site navigation: a GET carrying the cookie, no Origin.
		req, err := http.NewRequest("GET", e.srv.URL+"/api/sessions/"+s.ID, nil)
		e.must(err)
		req.AddCookie(&http.Cookie{Name: "cohub_auth", Value: e.tokens["alex"]})
		e.send(req).want(200)
		// A cross-site POST with the cookie is refused.
		req, err = http.NewRequest("POST", e.srv.URL+"/api/sessions/"+s.ID+"/seen", nil)
		e.must(err)
		req.AddCookie(&http.Cookie{Name: "cohub_auth", Value: e.tokens["alex"]})
		req.Header.Set("Origin", "https://evil.example")
		e.send(req).wantError(403, "forbidden")
		if !updated() {
			t.Fatal("a read or a cross-site request cleared updated")
		}
		if got := e.do("POST", "/api/sessions/"+s.ID+"/seen", "sam", nil).want(200).session(); !got.Updated || !updated() {
			t.Fatal("the supervisor's seen cleared the agent's updated")
		}
		if got := e.do("POST", "/api/sessions/"+s.ID+"/seen", "alex", nil).want(200).session(); got.Updated || got.ID != s.ID {
			t.Fatalf("seen answered %+v", got)
		}
		if updated() {
			t.Fatal("the agent's seen did not clear updated")
		}
		if got := e.do("GET", "/api/sessions/"+s.ID, "sam", nil).want(200).session(); got.Updated {
			t.Fatal("updated came back")
		}
		if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).session(); got.Indicator.State != rooms.OfflineIncomplete || !got.Indicator.Joined {
			t.Fatalf("indicator after join = %+v", got.Indicator)
		}
	})
}

func TestRestartOnRedisLosesNothing(t *testing.T) {
	e := newEnv(t, "redis")
	s := e.startSession("alex", "cara@example.com")
	e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
	tok := e.linkSentTo("cara@example.com")
	e.start() // a new server process on the same Redis
	got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session()
	if len(got.Tasks) != 1 || got.Customer.Email != "cara@example.com" || len(got.Invitations) != 1 {
		t.Fatalf("after restart: %+v", got)
	}
	e.customer("GET", "/api/customer/session", tok).want(200)
	e.do("GET", "/api/outbox", "admin", nil).want(200)
	var evs struct{ Events []rooms.Event }
	e.do("GET", "/api/sessions/"+s.ID+"/events", "alex", nil).want(200).into(&evs)
	// The task, and the customer's first look at their link.
	if got := eventTypes(evs.Events); got != "task.assigned customer.opened" {
		t.Fatalf("events after restart: %s", got)
	}
	if e.login("alex@cohub.test", testPassword) == "" {
		t.Fatal("login after restart failed")
	}
}

var _ = fmt.Sprint
var _ = http.MethodGet
