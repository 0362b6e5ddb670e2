package static_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/sso"
)

// TestSSOInBrowser: the sign-in page offers "Sign in with {provider}";
// Chromium goes to a real OpenID provider started for the test and back,
// lands in the console as alex with the cookies of a password login,
// and works in a room: starts a session and sends a message. A refusal
// (an email the provider has not verified) comes back to the sign-in
// page in plain words.
func TestSSOInBrowser(t *testing.T) {
	c, idp := ssoCluster(t)
	base := c.Nodes[0].Server.URL

	idp.QueueUser(&mockoidc.MockUser{Subject: "alex-1", Email: "alex@cohub.test", EmailVerified: true})
	agent := agentTab(t, "alex")
	agent.do("the sign-in page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(tid("sso-start")))
	agent.contains(tid("sso-start"), "Sign in with Test IdP")
	agent.readable("the sign-in page with single sign-on")
	agent.do("sign in with the provider", chromedp.Click(tid("sso-start")), chromedp.WaitVisible(tid("start-session")))
	agent.contains(tid("me-name"), c.Alex.Name)
	if agent.cookie("cohub_auth") == "" || agent.cookie("cohub_signed_in") != "1" {
		t.Fatal("single sign-on did not set the login cookies")
	}

	agent.do("start a session", chromedp.Click(tid("start-session")), chromedp.WaitVisible(tid("customer-name")),
		chromedp.SendKeys(tid("customer-name"), "Sol Rivera"), chromedp.SendKeys(tid("customer-email"), "sol@example.com"),
		chromedp.Click(tid("session-submit")), chromedp.WaitNotPresent(tid("session-dialog")))
	agent.indicator("never_joined")
	agent.do("write in the room", chromedp.SendKeys(tid("chat-input"), "Hello Sol, signed in with single sign-on."),
		chromedp.Click(tid("chat-send")))
	agent.contains(tid("chat-log"), "Hello Sol, signed in with single sign-on.")

	idp.QueueUser(&mockoidc.MockUser{Subject: "riley-1", Email: "riley@cohub.test", EmailVerified: false})
	other := agentTab(t, "riley")
	other.do("an unverified email", chromedp.Navigate(base+"/"), chromedp.WaitVisible(tid("sso-start")),
		chromedp.Click(tid("sso-start")), chromedp.WaitVisible(tid("login-error")))
	other.contains(tid("login-error"), "has not verified your email")
	if q := other.js(`location.search`); strings.Contains(q, "sso_error") {
		t.Fatalf("the refusal stays in the URL: %q", q)
	}
	other.readable("a refused single sign-on")
}

// ssoCluster is a node whose agents may sign in through a real OpenID
// provider (mockoidc) started for the test.
func ssoCluster(t *testing.T) (*livetest.Cluster, *mockoidc.MockOIDC) {
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	c := livetest.NewClusterWith(t, "memory", 1, livetest.Fast(), livetest.Options{SSO: func(nodeURL string) *sso.Provider {
		p, err := sso.New(sso.Config{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			RedirectURL: nodeURL + "/api/sso/callback", Name: "Test IdP"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}})
	return c, idp
}

// TestSSOSettingsInBrowser: on the org settings screen an admin has
// single sign-on create agents; without a home team the save is refused
// next to the field, with one it holds, and a verified email no agent
// had signs in as a new agent of that team. Turning password sign-in off
// for agents then refuses alex's password with plain words.
func TestSSOSettingsInBrowser(t *testing.T) {
	c, idp := ssoCluster(t)
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	base := c.Nodes[0].Server.URL
	ada := agentTab(t, "ada")
	ada.login(base, "ada@cohub.test")
	ada.do("the org settings", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("set-sso")))
	ada.contains(tid("sso-state"), "Test IdP")
	ada.do("create agents, no team", chromedp.Click(tid("set-sso-create")), chromedp.WaitVisible(tid("set-sso-team")),
		chromedp.Click(tid("settings-save")), chromedp.WaitVisible(chromedp.CSS("#set-sso-team-err")))
	ada.readable("single sign-on's settings with an error")
	ada.choose(tid("set-sso-team"), c.Team.ID)
	// The last setting sits right above the sticky save bar: scrolled to
	// the middle, as a person would, before the click.
	ada.js(`document.querySelector("[data-testid=set-sso-password-off]").scrollIntoView({block: "center"}), "ok"`)
	ada.do("password sign-in off", chromedp.Click(tid("set-sso-password-off")), chromedp.WaitVisible(tid("set-sso-password-off", ":checked")))
	ada.do("save with a team", chromedp.Click(tid("settings-save")),
		chromedp.WaitNotPresent(chromedp.CSS("#set-sso-team-err")))
	set, err := c.Service().Store().Settings(context.Background())
	c.Must(err)
	if !set.SSO.CreateAgents || set.SSO.TeamID != c.Team.ID || set.SSO.Role != rooms.RoleAgent || !set.SSO.PasswordAdminsOnly {
		t.Fatalf("saved %+v", set.SSO)
	}

	idp.QueueUser(&mockoidc.MockUser{Subject: "kim-1", Email: "kim.new@cohub.test", EmailVerified: true})
	kim := agentTab(t, "kim")
	kim.do("a first sign-in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(tid("sso-start")),
		chromedp.Click(tid("sso-start")), chromedp.WaitVisible(tid("start-session")))
	kim.contains(tid("me-name"), "kim.new")
	created, err := c.Service().Store().AgentByEmail(context.Background(), "kim.new@cohub.test")
	if err != nil || created.TeamID != c.Team.ID || created.Role != rooms.RoleAgent {
		t.Fatalf("created %+v %v", created, err)
	}

	alex := agentTab(t, "alex")
	alex.do("a password", chromedp.Navigate(base+"/"), chromedp.WaitVisible(tid("login-email")),
		chromedp.SendKeys(tid("login-email"), "alex@cohub.test"), chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")), chromedp.WaitVisible(tid("login-error")))
	alex.contains(tid("login-error"), "single sign-on")
}
