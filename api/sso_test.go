package api_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/sso"
)

// callbackURL is the env's callback as the provider knows it.
const callbackURL = "http://cohub.test/api/sso/callback"

// newSSOEnv is an env whose server signs in through a real OpenID
// provider (mockoidc: discovery, keys, authorize and token endpoints)
// started for the test.
func newSSOEnv(t *testing.T, backend string) (*env, *mockoidc.MockOIDC) {
	t.Helper()
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	e := newEnv(t, backend)
	e.oidc, err = sso.New(sso.Config{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: callbackURL, Name: "Test IdP"})
	e.must(err)
	e.start()
	return e, idp
}

// browser is a signed-out browser: it keeps cookies and stops at each
// redirect, so a test sees every hop.
type ssoBrowser struct {
	e *env
	c *http.Client
}

func (e *env) ssoBrowser() *ssoBrowser {
	jar, _ := cookiejar.New(nil)
	return &ssoBrowser{e: e, c: e.client(&http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})}
}

// get fetches a URL and returns its status and Location.
func (b *ssoBrowser) get(u string) (int, string) {
	b.e.t.Helper()
	res, err := b.c.Get(u)
	b.e.must(err)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// start asks Cohub to sign in and returns the provider's authorize URL.
func (b *ssoBrowser) start() string {
	b.e.t.Helper()
	st, loc := b.get(b.e.srv.URL + "/api/sso/start")
	if st != http.StatusFound || loc == "" {
		b.e.t.Fatalf("start: %d to %q", st, loc)
	}
	return loc
}

// authorize signs in at the provider and returns the callback's query
// (code and state) it sends the browser back with.
func (b *ssoBrowser) authorize(authURL string) url.Values {
	b.e.t.Helper()
	st, loc := b.get(authURL)
	if st != http.StatusFound || !strings.HasPrefix(loc, callbackURL+"?") {
		b.e.t.Fatalf("authorize: %d to %q", st, loc)
	}
	u, err := url.Parse(loc)
	b.e.must(err)
	return u.Query()
}

// callback brings the provider's answer to Cohub and returns where Cohub
// sends the browser, and the login cookie it set ("" for none).
func (b *ssoBrowser) callback(q url.Values) (string, string) {
	b.e.t.Helper()
	st, loc := b.get(b.e.srv.URL + "/api/sso/callback?" + q.Encode())
	if st != http.StatusFound {
		b.e.t.Fatalf("callback: %d", st)
	}
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "cohub_auth" {
			return loc, c.Value
		}
	}
	return loc, ""
}

// signIn runs the whole trip and returns where it ends and the login.
func (b *ssoBrowser) signIn() (string, string) {
	b.e.t.Helper()
	return b.callback(b.authorize(b.start()))
}

func user(email string, verified bool) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "sub-" + email, Email: email, EmailVerified: verified, PreferredUsername: email}
}

// TestSSOSignIn: an agent whose verified email the provider vouches for
// is signed in with the cookies of a password login, sent to the console,
// and nothing secret reaches the log.
func TestSSOSignIn(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			e, idp := newSSOEnv(t, backend)
			e.logs = &logBuffer{}
			e.start()
			var info struct {
				Enabled bool
				Name    string
			}
			e.do("GET", "/api/sso", "", nil).want(200).into(&info)
			if !info.Enabled || info.Name != "Test IdP" {
				t.Fatalf("GET /api/sso: %+v", info)
			}
			idp.QueueUser(user("Alex@cohub.test", true))
			b := e.ssoBrowser()
			authURL := b.start()
			for _, p := range []string{"state", "nonce", "code_challenge"} {
				if !strings.Contains(authURL, p+"=") {
					t.Fatalf("the authorize URL has no %s: %s", p, authURL)
				}
			}
			if !strings.Contains(authURL, "code_challenge_method=S256") {
				t.Fatalf("PKCE is not S256: %s", authURL)
			}
			q := b.authorize(authURL)
			loc, token := b.callback(q)
			if loc != "/" || token == "" {
				t.Fatalf("callback: to %q, login %q", loc, token)
			}
			var me rooms.Agent
			e.do("GET", "/api/me", "Bearer "+token, nil).want(200).into(&me)
			if me.ID != e.agents["alex"].ID {
				t.Fatalf("signed in as %s, want alex", me.Email)
			}
			for _, secret := range []string{q.Get("code"), q.Get("state"), token} {
				if strings.Contains(e.logs.String(), secret) {
					t.Fatalf("the log holds a code, state or token: %s", e.logs.String())
				}
			}
			if !strings.Contains(e.logs.String(), "signed in with single sign-on") {
				t.Fatalf("no audit line: %s", e.logs.String())
			}
		})
	}
}

// TestSSORefusals: each check of the flow refuses what fails it, and a
// refusal signs no one in: a state not this browser's, a replayed code,
// an ID token with another nonce, an unverified email, a disabled agent,
// an unknown email, a state that waited too long.
func TestSSORefusals(t *testing.T) {
	e, idp := newSSOEnv(t, "redis")
	refused := func(t *testing.T, b *ssoBrowser, q url.Values, code string) {
		t.Helper()
		loc, token := b.callback(q)
		if loc != "/?sso_error="+code || token != "" {
			t.Fatalf("to %q with login %q, want /?sso_error=%s and none", loc, token, code)
		}
	}
	t.Run("wrong state", func(t *testing.T) {
		idp.QueueUser(user("alex@cohub.test", true)) // whom the refusal must not sign in
		b := e.ssoBrowser()
		q := b.authorize(b.start())
		q.Set("state", q.Get("state")+"x")
		refused(t, b, q, "unauthenticated")
	})
	t.Run("another browser's state", func(t *testing.T) {
		idp.QueueUser(user("alex@cohub.test", true)) // whom the refusal must not sign in
		// An attacker's own sign-in, handed to a victim's browser (login
		// CSRF): the victim has no state cookie for it.
		q := e.ssoBrowser().authorize(e.ssoBrowser().start())
		refused(t, e.ssoBrowser(), q, "unauthenticated")
	})
	t.Run("state used twice", func(t *testing.T) {
		idp.QueueUser(user("alex@cohub.test", true))
		b := e.ssoBrowser()
		q := b.authorize(b.start())
		if _, token := b.callback(q); token == "" {
			t.Fatal("the first callback signed no one in")
		}
		b2 := e.ssoBrowser()
		b2.start()
		refused(t, b2, q, "unauthenticated")
	})
	t.Run("replayed code", func(t *testing.T) {
		idp.QueueUser(user("alex@cohub.test", true))
		b := e.ssoBrowser()
		used := b.authorize(b.start())
		if _, token := b.callback(used); token == "" {
			t.Fatal("the first callback signed no one in")
		}
		// A fresh sign-in of this browser's, with the code already used.
		fresh := e.ssoBrowser()
		q := fresh.authorize(fresh.start())
		q.Set("code", used.Get("code"))
		refused(t, fresh, q, "unauthenticated")
	})
	// The provider is sent another nonce or PKCE challenge than the ones
	// Cohub keeps: its ID token or its code is then refused.
	for param, value := range map[string]string{"nonce": "not-the-nonce-cohub-sent",
		"code_challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		t.Run("bad "+param, func(t *testing.T) {
			idp.QueueUser(user("alex@cohub.test", true)) // whom the refusal must not sign in
			b := e.ssoBrowser()
			u, err := url.Parse(b.start())
			e.must(err)
			q := u.Query()
			q.Set(param, value)
			u.RawQuery = q.Encode()
			refused(t, b, b.authorize(u.String()), "unauthenticated")
		})
	}
	t.Run("provider error", func(t *testing.T) {
		idp.QueueUser(user("alex@cohub.test", true)) // whom the refusal must not sign in
		b := e.ssoBrowser()
		q := b.authorize(b.start())
		q.Del("code")
		q.Set("error", "access_denied")
		refused(t, b, q, "unauthenticated")
	})
	t.Run("unverified email", func(t *testing.T) {
		idp.QueueUser(user("alex@cohub.test", false))
		b := e.ssoBrowser()
		refused(t, b, b.authorize(b.start()), "email_unverified")
	})
	t.Run("unknown email", func(t *testing.T) {
		idp.QueueUser(user("stranger@cohub.test", true))
		b := e.ssoBrowser()
		refused(t, b, b.authorize(b.start()), "no_account")
		if _, err := e.store.AgentByEmail(context.Background(), "stranger@cohub.test"); err == nil {
			t.Fatal("an agent was created with create_agents off")
		}
	})
	t.Run("disabled agent", func(t *testing.T) {
		riley := e.agents["riley"]
		e.do("PUT", "/api/agents/"+riley.ID, "admin", map[string]any{"email": riley.Email, "name": riley.Name, "role": riley.Role,
			"team_id": riley.TeamID, "settings_team_ids": []string{}, "disabled": true}).want(200)
		idp.QueueUser(user("riley@cohub.test", true))
		b := e.ssoBrowser()
		refused(t, b, b.authorize(b.start()), "forbidden")
	})
	t.Run("state expired", func(t *testing.T) {
		idp.QueueUser(user("alex@cohub.test", true)) // whom the refusal must not sign in
		b := e.ssoBrowser()
		q := b.authorize(b.start())
		e.clock.Advance(rooms.SSOStateTTL + time.Second)
		refused(t, b, q, "unauthenticated")
	})
	t.Run("too many starts", func(t *testing.T) {
		// Each start is kept until used or expired: one IP may start 30 a
		// minute (the subtests above started some of them).
		b := e.ssoBrowser()
		for n := 1; ; n++ {
			st, loc := b.get(e.srv.URL + "/api/sso/start")
			if loc == "/?sso_error=rate_limited" {
				break
			}
			if st != http.StatusFound || n > 30 {
				t.Fatalf("start %d: %d to %q", n, st, loc)
			}
		}
	})
}

// TestSSOCreatesAgents: with the org's setting, a verified email no agent
// has becomes an agent of the team and role the admin chose, at its
// first sign-in; who an admin may not make is refused by field, and
// the refused settings change nothing.
func TestSSOCreatesAgents(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) { createsAgents(t, backend) })
	}
}

func createsAgents(t *testing.T, backend string) {
	e, idp := newSSOEnv(t, backend)
	var before rooms.Settings
	e.do("GET", "/api/settings", "admin", nil).want(200).into(&before)
	for field, sso := range map[string]rooms.SSOSettings{
		"sso.team_id": {CreateAgents: true, TeamID: "t_none", Role: rooms.RoleAgent},
		"sso.role":    {CreateAgents: true, TeamID: e.support, Role: rooms.RoleAdmin},
	} {
		set := before
		set.SSO = sso
		e.do("PUT", "/api/settings", "admin", set).wantField(field)
	}
	var after rooms.Settings
	e.do("GET", "/api/settings", "admin", nil).want(200).into(&after)
	if after.SSO != before.SSO {
		t.Fatalf("refused settings changed them: %+v", after.SSO)
	}

	set := before
	set.SSO = rooms.SSOSettings{CreateAgents: true, TeamID: e.support, Role: rooms.RoleSupervisor}
	e.do("PUT", "/api/settings", "admin", set).want(200)
	idp.QueueUser(&mockoidc.MockUser{Subject: "s-new", Email: "new.person@cohub.test", EmailVerified: true})
	_, token := e.ssoBrowser().signIn()
	if token == "" {
		t.Fatal("the first sign-in signed no one in")
	}
	var me rooms.Agent
	e.do("GET", "/api/me", "Bearer "+token, nil).want(200).into(&me)
	if me.Email != "new.person@cohub.test" || me.Role != rooms.RoleSupervisor || me.TeamID != e.support || me.Name != "new.person" {
		t.Fatalf("created %+v", me)
	}
	// The second sign-in finds the same agent.
	idp.QueueUser(&mockoidc.MockUser{Subject: "s-new", Email: "new.person@cohub.test", EmailVerified: true})
	_, token = e.ssoBrowser().signIn()
	var again rooms.Agent
	e.do("GET", "/api/me", "Bearer "+token, nil).want(200).into(&again)
	if again.ID != me.ID {
		t.Fatalf("a second agent %s for the same email", again.ID)
	}
}

// TestPasswordSignInOff: with password sign-in for admins only, an
// agent's right password is refused with its own code (a wrong one is
// still just wrong), an admin's works, and the agent still signs in
// through the provider. A server without a provider refuses the setting.
func TestPasswordSignInOff(t *testing.T) {
	plain := newEnv(t, "memory")
	set := rooms.DefaultSettings()
	set.SSO.PasswordAdminsOnly = true
	plain.do("PUT", "/api/settings", "admin", set).wantField("sso.password_admins_only")

	e, idp := newSSOEnv(t, "redis")
	e.do("PUT", "/api/settings", "admin", set).want(200)
	e.do("POST", "/api/login", "", map[string]string{"email": "alex@cohub.test", "password": testPassword}).
		wantError(403, "password_sign_in_off")
	e.do("POST", "/api/login", "", map[string]string{"email": "alex@cohub.test", "password": "wrong-password-1"}).
		wantError(401, "unauthenticated")
	e.login("admin@cohub.test", testPassword)
	idp.QueueUser(user("alex@cohub.test", true))
	if _, token := e.ssoBrowser().signIn(); token == "" {
		t.Fatal("single sign-on was refused with passwords off")
	}
}

// TestSSOProviderDown: a provider that cannot be reached sends the
// browser back to the sign-in page with backend_unavailable, and Cohub
// keeps answering (discovery is tried again at the next sign-in).
func TestSSOProviderDown(t *testing.T) {
	e := newEnv(t, "memory")
	var err error
	e.oidc, err = sso.New(sso.Config{Issuer: "http://127.0.0.1:1/oidc", ClientID: "cohub", RedirectURL: callbackURL})
	e.must(err)
	e.start()
	st, loc := e.ssoBrowser().get(e.srv.URL + "/api/sso/start")
	if st != http.StatusFound || loc != "/?sso_error=backend_unavailable" {
		t.Fatalf("start with the provider down: %d to %q", st, loc)
	}
	e.do("GET", "/api/sso", "", nil).want(200)
}

// TestSSOAcrossNodes: the pending sign-in is the store's, not a node's:
// a sign-in started on one server ends on another over the same Redis.
func TestSSOAcrossNodes(t *testing.T) {
	e, idp := newSSOEnv(t, "redis")
	idp.QueueUser(user("alex@cohub.test", true))
	b := e.ssoBrowser()
	q := b.authorize(b.start())
	first := e.srv.URL
	e.start() // another node: a new server on the same store
	if e.srv.URL == first {
		t.Fatal("the second server is the first")
	}
	if loc, token := b.callback(q); loc != "/" || token == "" {
		t.Fatalf("the other node: to %q, login %q", loc, token)
	}
}
