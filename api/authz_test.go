package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/rooms"
)

// callers, in the order of every row's expected statuses: no credential,
// a customer link, an agent of another team, an agent of the owner's
// team, the owner, the owner's supervisor, an admin.
var callers = []string{"none", "link", "riley", "blake", "alex", "sam", "admin"}

type authzRow struct {
	method, path string // path may hold {id} (a session of alex's), {task}, {sales}, {alex}
	body         func(n int) any
	state        string // the session's state before the call: active (default), planned, ended
	want         [7]int
	relogin      bool // the call ends the caller's logins: sign in again after it
	// kind is the kind of the session's task {task} (default form); a
	// sign task gets a document, {asset}.
	kind string
}

func adminOnly(ok int) [7]int { return [7]int{401, 401, 403, 403, 403, 403, ok} }

// authzRows are the matrix: every /api route but the login itself
// (TestAuthorizationMatrixCoversEveryRoute holds it to that).
func authzRows(t *testing.T) []authzRow {
	return []authzRow{
		{method: "GET", path: "/api/me", want: [7]int{401, 401, 200, 200, 200, 200, 200}},
		// Anyone signed in, or with a link, may open a socket: the ticket
		// stands for their own credential.
		{method: "POST", path: "/api/ws/ticket", want: [7]int{401, 200, 200, 200, 200, 200, 200}},
		// The contract is public: it says how to call, not what is stored.
		{method: "GET", path: "/api/openapi.json", want: [7]int{200, 200, 200, 200, 200, 200, 200}},
		// Single sign-on is public: the sign-in page asks whether it is on,
		// and its routes are a signed-out browser's. The matrix's server
		// has no provider (TestSSO* run one), so they are not found.
		{method: "GET", path: "/api/sso", want: [7]int{200, 200, 200, 200, 200, 200, 200}},
		{method: "GET", path: "/api/sso/start", want: [7]int{404, 404, 404, 404, 404, 404, 404}},
		{method: "GET", path: "/api/sso/callback", want: [7]int{404, 404, 404, 404, 404, 404, 404}},
		{method: "GET", path: "/api/settings", want: adminOnly(200)},
		{method: "PUT", path: "/api/settings", body: func(int) any { return rooms.DefaultSettings() }, want: adminOnly(200)},
		{method: "GET", path: "/api/teams", want: adminOnly(200)},
		{method: "POST", path: "/api/teams", body: func(n int) any { return map[string]string{"name": fmt.Sprint("Team ", n)} }, want: adminOnly(201)},
		{method: "GET", path: "/api/teams/{sales}", want: adminOnly(200)},
		{method: "PUT", path: "/api/teams/{sales}", body: func(int) any {
			return rooms.Team{Name: "Sales", Settings: rooms.DefaultTeamSettings()}
		}, want: adminOnly(200)},
		{method: "POST", path: "/api/teams/{signteam}/templates/0/document", body: func(int) any {
			return fileUpload(t, "offer.pdf", pdfsign.Sample("Offer", 1))
		}, want: adminOnly(200)},
		{method: "DELETE", path: "/api/teams/{signteam}/templates/0/document", want: adminOnly(200)},
		{method: "GET", path: "/api/agents", want: adminOnly(200)},
		{method: "POST", path: "/api/agents", body: func(n int) any {
			return map[string]any{"email": fmt.Sprintf("new%d@cohub.test", n), "name": "New", "role": "agent",
				"team_id": "{sales}", "settings_team_ids": []string{}, "password": testPassword}
		}, want: adminOnly(201)},
		{method: "PUT", path: "/api/agents/{alex}", body: func(int) any {
			return map[string]any{"email": "alex@cohub.test", "name": "Alex", "role": "agent",
				"team_id": "{sales}", "settings_team_ids": []string{}, "disabled": false}
		}, want: adminOnly(200)},
		{method: "GET", path: "/api/outbox", want: adminOnly(200)},
		{method: "GET", path: "/api/api-keys", want: adminOnly(200)},
		{method: "POST", path: "/api/api-keys", body: func(n int) any {
			return map[string]any{"name": fmt.Sprint("CRM ", n), "agent_id": "{alex}"}
		}, want: adminOnly(201)},
		// No such key: those who may revoke hear so.
		{method: "DELETE", path: "/api/api-keys/key_none", want: adminOnly(404)},
		{method: "GET", path: "/api/signing-identity", want: adminOnly(200)},
		{method: "GET", path: "/api/webhooks", want: adminOnly(200)},
		{method: "POST", path: "/api/webhooks", body: func(n int) any {
			return map[string]any{"url": fmt.Sprintf("https://hooks.example.com/%d", n)}
		}, want: adminOnly(201)},
		// No such endpoint or delivery: those who may act hear so.
		{method: "PUT", path: "/api/webhooks/wh_none", body: func(int) any { return map[string]any{"enabled": false} },
			want: adminOnly(404)},
		{method: "DELETE", path: "/api/webhooks/wh_none", want: adminOnly(404)},
		{method: "POST", path: "/api/webhooks/wh_none/rotate-secret", want: adminOnly(404)},
		{method: "GET", path: "/api/webhooks/wh_none/deliveries", want: adminOnly(404)},
		{method: "POST", path: "/api/webhooks/wh_none/deliveries/dlv_none/retry", want: adminOnly(404)},
		{method: "POST", path: "/api/sessions", body: func(int) any {
			return map[string]any{"mode": "start", "customer": map[string]string{"email": "new@example.com"}}
		}, want: [7]int{401, 401, 201, 201, 201, 201, 201}},
		{method: "GET", path: "/api/sessions", want: [7]int{401, 401, 200, 200, 200, 200, 200}},
		{method: "GET", path: "/api/sessions/{id}", want: [7]int{401, 401, 404, 200, 200, 200, 200}},
		// Seen follows the room join: it clears "updated" for the owner.
		{method: "POST", path: "/api/sessions/{id}/seen", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		// The transcript follows the room join: a teammate who may list the
		// session in history may not read it.
		{method: "GET", path: "/api/sessions/{id}/events", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "GET", path: "/api/sessions/{id}/verify", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "GET", path: "/api/sessions/{id}/export", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "POST", path: "/api/sessions/{id}/certificate", want: [7]int{401, 401, 404, 403, 201, 201, 201}},
		{method: "POST", path: "/api/sessions/{id}/erase", want: adminOnly(409)},
		{method: "GET", path: "/api/sessions/{id}/settings", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "POST", path: "/api/sessions/{id}/invite", state: "planned", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "POST", path: "/api/sessions/{id}/tasks", body: func(int) any { return map[string]string{"kind": "sign", "title": "Sign"} },
			want: [7]int{401, 401, 404, 403, 201, 201, 201}},
		{method: "DELETE", path: "/api/sessions/{id}/tasks/{task}", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "POST", path: "/api/sessions/{id}/link", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		// Only the agent who set a PIN reads it (the matrix's sessions have none).
		{method: "GET", path: "/api/sessions/{id}/pin", want: [7]int{401, 401, 404, 403, 409, 403, 403}},
		{method: "POST", path: "/api/sessions/{id}/reengage", body: func(int) any {
			return map[string]any{"customer": map[string]string{"email": "fixed@example.com"}}
		}, want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "POST", path: "/api/sessions/{id}/end", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "POST", path: "/api/sessions/{id}/renew", state: "ended", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		// The matrix's sessions are not locked: those who may act hear so.
		{method: "POST", path: "/api/sessions/{id}/unlock", want: [7]int{401, 401, 404, 403, 409, 409, 409}},
		// Each row's session is fresh: pausing works for those who may
		// act; resuming reminders that run answers invalid_state to them.
		{method: "POST", path: "/api/sessions/{id}/reminders/pause", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "POST", path: "/api/sessions/{id}/reminders/resume", want: [7]int{401, 401, 404, 403, 409, 409, 409}},
		{method: "POST", path: "/api/logout?all=1", want: [7]int{401, 401, 200, 200, 200, 200, 200}, relogin: true},
		{method: "GET", path: "/api/customer/session", want: [7]int{401, 200, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/new-link", want: [7]int{401, 202, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/time-zone", body: func(int) any { return map[string]string{"time_zone": "Europe/Paris"} },
			want: [7]int{401, 204, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/language", body: func(int) any { return map[string]string{"language": "es"} },
			want: [7]int{401, 200, 401, 401, 401, 401, 401}},
		// The matrix's sessions ask nothing of the customer: the gates
		// answer invalid_state to the link and 401 to anyone else.
		{method: "POST", path: "/api/customer/otp", want: [7]int{401, 409, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/verify", body: func(int) any { return map[string]string{"pin": "1234"} },
			want: [7]int{401, 409, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/consent", body: func(int) any { return map[string]bool{"accept": true} },
			want: [7]int{401, 409, 401, 401, 401, 401, 401}},

		// Tasks that keep files, and the files.
		{method: "POST", path: "/api/sessions/{id}/tasks/{task}/document", kind: "sign", body: func(int) any {
			return fileUpload(t, "offer.pdf", pdfsign.Sample("Offer", 1))
		}, want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		{method: "GET", path: "/api/sessions/{id}/assets", want: [7]int{401, 401, 404, 403, 200, 200, 200}},
		// The customer reads their session's files with their link.
		{method: "GET", path: "/api/sessions/{id}/assets/{asset}", kind: "sign", want: [7]int{401, 200, 404, 403, 200, 200, 200}},
		{method: "GET", path: "/api/customer/assets", want: [7]int{401, 200, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/tasks/{task}/sign", kind: "sign", body: func(int) any { return map[string]string{"name": "Cara"} },
			want: [7]int{401, 200, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/tasks/{task}/form", body: func(int) any { return map[string]any{"answers": map[string]any{}} },
			want: [7]int{401, 200, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/tasks/{task}/upload", kind: "upload", body: func(int) any {
			return fileUpload(t, "id.png", pngImage(t, 20, 20))
		}, want: [7]int{401, 200, 401, 401, 401, 401, 401}},
		{method: "POST", path: "/api/customer/tasks/{task}/consent", kind: "consent", body: func(int) any { return map[string]bool{"agree": true} },
			want: [7]int{401, 200, 401, 401, 401, 401, 401}},
	}
}

// TestAuthorizationMatrix runs every route as every kind of caller.
func TestAuthorizationMatrix(t *testing.T) {
	rows := authzRows(t)
	backends(t, func(t *testing.T, e *env) {
		n := 0
		for _, row := range rows {
			for i, who := range callers {
				n++
				t.Run(fmt.Sprintf("%s %s as %s", row.method, row.path, who), func(t *testing.T) {
					e.t = t
					path, cred := e.prepare(row, who)
					var body any
					if row.body != nil {
						body = row.body(n)
					}
					if j, ok := body.(map[string]any); ok && j["team_id"] == "{sales}" {
						j["team_id"] = e.sales
					}
					if j, ok := body.(map[string]any); ok && j["agent_id"] == "{alex}" {
						j["agent_id"] = e.agents["alex"].ID
					}
					r := e.do(row.method, path, cred, body)
					if r.status != row.want[i] {
						t.Fatalf("status %d, want %d: %s", r.status, row.want[i], r.body)
					}
					if row.relogin && e.tokens[who] != "" {
						e.do("GET", "/api/me", who, nil).wantError(401, "unauthenticated")
						e.tokens[who] = e.login(e.agents[who].Email, testPassword)
					}
				})
			}
		}
	})
}

// prepare makes a fresh session of alex's in the row's state and returns
// the path and the credential to call with.
func (e *env) prepare(row authzRow, who string) (string, string) {
	e.t.Helper()
	e.n++
	email := fmt.Sprintf("c%d@example.com", e.n)
	var s *rooms.Session
	if row.state == "planned" {
		s = e.preplan("alex", email)
	} else {
		s = e.startSession("alex", email)
	}
	var task rooms.Task
	kind := row.kind
	if kind == "" {
		kind = "form"
	}
	e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": kind, "title": "Task"}).want(201).into(&task)
	if kind == "sign" && row.state != "planned" {
		e.do("POST", "/api/sessions/"+s.ID+"/tasks/"+task.ID+"/document", "alex",
			fileUpload(e.t, "offer.pdf", pdfsign.Sample("Offer", 1))).want(200).into(&task)
	}
	if row.state == "ended" {
		e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).want(200)
	}
	if strings.Contains(row.path, "{signteam}") && e.signTeam == "" {
		ts := rooms.DefaultTeamSettings()
		ts.TaskTemplates = []rooms.TaskTemplate{{Kind: "sign", Title: "Sign the offer"}}
		team, err := e.svc.Accounts.CreateTeam(e.t.Context(), "Signing", &ts)
		e.must(err)
		e.signTeam = team.ID
	}
	path := strings.NewReplacer("{signteam}", e.signTeam, "{id}", s.ID, "{task}", task.ID, "{asset}", task.DocumentID, "{sales}", e.sales, "{alex}", e.agents["alex"].ID).Replace(row.path)
	switch who {
	case "none":
		return path, ""
	case "link":
		var link rooms.Link
		if row.state == "" {
			e.do("POST", "/api/sessions/"+s.ID+"/link", "alex", nil).want(200).into(&link)
			return path, "Link " + strings.TrimPrefix(link.URL, "http://cohub.test/c/")
		}
		return path, "Link " + e.linkFor(s)
	}
	return path, who
}

// linkFor signs a link for any session through the service, as an
// invitation would.
func (e *env) linkFor(s *rooms.Session) string {
	msgs, err := e.outbox.List(e.t.Context(), 1000)
	e.must(err)
	for _, m := range msgs {
		if m.SessionID == s.ID {
			return e.linkSentTo(m.To)
		}
	}
	return "no-link-for-planned-session"
}

// TestCookieNeedsSameOrigin: a cookie-authenticated state change needs a
// same-origin Origin header; bearer tokens need none.
func TestCookieNeedsSameOrigin(t *testing.T) {
	e := newEnv(t, "memory")
	body := `{"mode":"start","customer":{"email":"x@example.com"}}`
	post := func(origin string, cookie bool) *resp {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/sessions", strings.NewReader(body))
		if cookie {
			req.AddCookie(&http.Cookie{Name: "cohub_auth", Value: e.tokens["alex"]})
		} else {
			req.Header.Set("Authorization", "Bearer "+e.tokens["alex"])
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return e.send(req)
	}
	post("", true).wantError(403, "forbidden")
	post("https://evil.example", true).wantError(403, "forbidden")
	post(e.srv.URL, true).want(201)
	post("http://cohub.test", true).want(201)
	post("", false).want(201)
	// Reading with the cookie needs no Origin.
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/me", nil)
	req.AddCookie(&http.Cookie{Name: "cohub_auth", Value: e.tokens["alex"]})
	e.send(req).want(200)
}

func TestLoginLogout(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/login", "", map[string]string{"email": "ALEX@cohub.test", "password": testPassword}).want(200)
		var out struct {
			Token string
			Agent map[string]any
		}
		r.into(&out)
		if out.Token == "" || out.Agent["email"] != "alex@cohub.test" || out.Agent["password_hash"] != nil {
			t.Fatalf("login reply = %s", r.body)
		}
		c := r.header.Get("Set-Cookie")
		if !strings.Contains(c, "cohub_auth="+out.Token) || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
			t.Fatalf("cookie = %q", c)
		}
		e.do("POST", "/api/login", "", map[string]string{"email": "alex@cohub.test", "password": "wrong-password"}).wantError(401, "unauthenticated")
		e.do("POST", "/api/login", "", map[string]string{"email": "nobody@cohub.test", "password": testPassword}).wantError(401, "unauthenticated")
		e.do("POST", "/api/login", "", map[string]any{"email": "alex@cohub.test", "password": testPassword, "x": 1}).wantField("x")

		var me struct {
			ID             string
			SettingsTeams  []struct{ ID, Name string } `json:"settings_teams"`
			SMSEnabled     bool                        `json:"sms_enabled"`
			InvitationMode string                      `json:"invitation_mode"`
		}
		e.do("GET", "/api/me", "Bearer "+out.Token, nil).want(200).into(&me)
		if me.ID != e.agents["alex"].ID || len(me.SettingsTeams) != 1 || me.SettingsTeams[0].Name != "Sales" || !me.SMSEnabled || me.InvitationMode != "builtin" {
			t.Fatalf("me = %+v", me)
		}
		e.do("POST", "/api/logout", "Bearer "+out.Token, nil).want(200)
		e.do("GET", "/api/me", "Bearer "+out.Token, nil).wantError(401, "unauthenticated")
		e.do("GET", "/api/me", "Bearer forged", nil).wantError(401, "unauthenticated")
	})
}

func TestLoginRateLimit(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		for i := range 10 {
			e.do("POST", "/api/login", "", map[string]string{"email": "blake@cohub.test", "password": fmt.Sprint("wrong-", i)}).
				wantError(401, "unauthenticated")
		}
		// Even the right password is refused once the account is locked.
		e.do("POST", "/api/login", "", map[string]string{"email": "blake@cohub.test", "password": testPassword}).
			wantError(429, "rate_limited")
		// The limit is per account and per IP: all tests come from one IP,
		// so another account is refused too until the minute passes.
		e.do("POST", "/api/login", "", map[string]string{"email": "alex@cohub.test", "password": testPassword}).
			wantError(429, "rate_limited")
	})
}

// TestAuthorizationMatrixCoversEveryRoute: each method of each /api
// route the server registers has a row in the matrix, so a new route
// cannot go untested. The login is the one route without a credential
// to check (TestLoginLogout, TestLoginRateLimit).
func TestAuthorizationMatrixCoversEveryRoute(t *testing.T) {
	exempt := map[string]bool{"POST /api/login": true}
	rows := authzRows(t)
	e := newEnv(t, "memory")
	param := regexp.MustCompile(`\{[^}]+\}`)
	routes := apiRoutes(t, e)
	for _, r := range routes {
		m, tpl, _ := strings.Cut(r, " ")
		if exempt[r] {
			continue
		}
		match := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(param.ReplaceAllString(tpl, "\x00")), "\x00", "[^/]+") + "$")
		covered := false
		for _, row := range rows {
			path, _, _ := strings.Cut(row.path, "?")
			covered = covered || (row.method == m && match.MatchString(path))
		}
		if !covered {
			t.Errorf("%s %s has no row in the authorization matrix", m, tpl)
		}
	}
	if len(routes) < len(rows) {
		t.Fatalf("walked %d routes", len(routes))
	}
}

// apiRoutes walks a server's router: "METHOD /api/path/{param}" for each
// method of each /api route.
func apiRoutes(t *testing.T, e *env) []string {
	t.Helper()
	var routes []string
	err := api.New(e.svc, e.outbox, api.Options{PublicURL: "http://cohub.test"}, e.logger()).Router().
		Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
			tpl, err := route.GetPathTemplate()
			if err != nil || !strings.HasPrefix(tpl, "/api/") {
				return nil
			}
			methods, err := route.GetMethods()
			if err != nil {
				return nil
			}
			for _, m := range methods {
				routes = append(routes, m+" "+tpl)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return routes
}
