package static_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/browsertest"
	"github.com/cohub/cohub/rooms"
)

// The browser tests walk the console and the customer page as people do,
// each person in a Chromium of their own (own profile, own cookies): the
// agent at 1366×900, the customer on a 390×844 phone. They wait on the
// page (an element, a data-state, a condition), never on time.

const password = "correct-horse-battery"

// tid selects by data-testid, the attribute tests rely on.
func tid(id string, more ...string) chromedp.CSS {
	return chromedp.CSS(`[data-testid="` + id + `"]` + strings.Join(more, ""))
}

// tab is one person's browser.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

func agentTab(t *testing.T, name string) tab {
	return tab{t: t, ctx: browsertest.Start(t), name: name}
}

func customerTab(t *testing.T) tab {
	return tab{t: t, ctx: browsertest.StartWith(t, browsertest.Options{Width: 390, Height: 844, Mobile: true}), name: "customer"}
}

func (b tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, stepLimit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v\npage: %s", b.name, what, err, b.page())
	}
	if took := time.Since(start); took > 3*time.Second {
		b.t.Logf("%s: %s took %s", b.name, what, took.Round(time.Millisecond))
	}
}

// stepLimit bounds one step: a step that fails says so (with what the
// page shows) long before the browser's own bound.
const stepLimit = 45 * time.Second

// page is what the page shows, for a failing step's message.
func (b tab) page() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return strings.Join(strings.Fields(v), " ")
}

// until waits for a JavaScript condition on the page.
func (b tab) until(what, cond string) {
	b.t.Helper()
	b.do(what, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond)))
}

// js evaluates an expression to a string.
func (b tab) js(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, expr, err)
	}
	return v
}

func (b tab) text(sel chromedp.CSS) string {
	b.t.Helper()
	return browsertest.Text(b.t, b.ctx, string(sel))
}

// attr reads an attribute of the first match.
func (b tab) attr(sel chromedp.CSS, name string) string {
	return b.js(fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => "(none)"}).getAttribute(%q) || ""`, string(sel), name))
}

// contains waits until an element's text contains a string.
func (b tab) contains(sel chromedp.CSS, text string) {
	b.t.Helper()
	b.until(fmt.Sprintf("%s shows %q", sel, text),
		fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, string(sel), text))
}

// fill replaces a field's value as typing would (an input event).
func (b tab) fill(sel chromedp.CSS, value string) {
	b.t.Helper()
	b.js(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.focus();
		const proto = el.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
		Object.getOwnPropertyDescriptor(proto, "value").set.call(el, %q);
		el.dispatchEvent(new Event("input", {bubbles: true})); return "ok"; })()`, string(sel), value))
}

// choose picks an option of a select.
func (b tab) choose(sel chromedp.CSS, value string) {
	b.t.Helper()
	b.js(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
		el.dispatchEvent(new Event("change", {bubbles: true})); return "ok"; })()`, string(sel), value))
}

// cookie reads a cookie of the page, HttpOnly ones too.
func (b tab) cookie(name string) string {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{})
	})
	if err != nil {
		b.t.Fatalf("%s: cookies: %v", b.name, err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	b.t.Fatalf("%s: no cookie %s", b.name, name)
	return ""
}

func (b tab) login(base, email string) {
	b.t.Helper()
	b.do("sign in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(tid("login-email")),
		chromedp.SendKeys(tid("login-email"), email), chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")), chromedp.WaitVisible(tid("start-session")))
}

// menu opens the session menu and picks an item.
func (b tab) menu(item string) {
	b.t.Helper()
	b.do("session menu: "+item, chromedp.Click(tid("session-menu")), chromedp.WaitVisible(tid(item)), chromedp.Click(tid(item)))
}

// menuItemDisabled opens the menu, reads whether an item is disabled and
// its note, and closes the menu again.
func (b tab) menuItem(item string) (disabled bool, note string) {
	b.t.Helper()
	b.do("open the session menu", chromedp.Click(tid("session-menu")), chromedp.WaitVisible(tid(item)))
	disabled = b.attr(tid(item), "aria-disabled") == "true"
	note = b.text(tid(item, " .menu-note"))
	b.do("close the session menu", chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(tid(item)))
	return disabled, note
}

func (b tab) indicator(state string) {
	b.t.Helper()
	b.do("indicator "+state, chromedp.WaitVisible(tid("indicator", `[data-state="`+state+`"]`)))
}

// linkPath is the /c/… path of a customer URL (links carry the public
// URL; the test servers listen elsewhere).
func linkPath(t *testing.T, url string) string {
	t.Helper()
	i := strings.Index(url, "/c/")
	if i < 0 {
		t.Fatalf("not a customer link: %q", url)
	}
	return url[i:]
}

// teamWith gives the cluster's Sales team a PIN, consent and templates.
func teamWith(c *livetest.Cluster, auth string, consent string, templates ...rooms.TaskTemplate) {
	c.T.Helper()
	c.Team.Settings.CustomerAuthentication = auth
	c.Team.Settings.Consent = rooms.ConsentSetting{Required: consent != "", Text: consent}
	c.Team.Settings.TaskTemplates = templates
	_, err := c.Service().Accounts.UpdateTeam(context.Background(), c.Team)
	c.Must(err)
}

// TestJourneyInBrowsers walks the whole "manage sessions" journey across
// two nodes: the agent's console on node 1, the customer's phone on node
// 2. A bad email is explained next to its field; the started session's
// room opens at once; the agent generates and copies the URL; the
// customer passes the PIN and consent gates; the indicator goes never
// joined → online, to do; both chat (with typing); a template task is
// completed → online, done; the customer closes the tab → offline, done
// after the grace; the customer comes back, the agent ends the session
// and the customer keeps a read-only page; a renew gives it back.
func TestJourneyInBrowsers(t *testing.T) {
	c := livetest.NewCluster(t, "redis", 2, livetest.Fast())
	teamWith(c, "pin", "I agree that Sales may see the documents I share here.",
		rooms.TaskTemplate{Kind: "consent", Title: "Agree to the terms"}, rooms.TaskTemplate{Kind: "form", Title: "Fill in your details"})
	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(c.Nodes[0].Server.URL, "alex@cohub.test")

	agent.do("open the start form", chromedp.Click(tid("start-session")), chromedp.WaitVisible(tid("customer-name")),
		chromedp.SendKeys(tid("customer-name"), "Dana Whitfield"),
		chromedp.SendKeys(tid("customer-email"), "dana.example.com"),
		chromedp.SendKeys(tid("session-pin"), "246813"),
		chromedp.Click(tid("session-submit")))
	agent.contains(chromedp.CSS("#ns-email-err"), "no @")
	agent.fill(tid("customer-email"), "dana@example")
	agent.do("submit a second time", chromedp.Click(tid("session-submit")))
	agent.contains(chromedp.CSS("#ns-email-err"), "does not look like a full email address")
	if got := agent.attr(tid("customer-email"), "aria-invalid"); got != "true" {
		t.Fatalf("the email field is not marked invalid: %q", got)
	}
	// The PIN is typed out of sight, and Show checks it.
	if typ := agent.attr(tid("session-pin"), "type"); typ != "password" {
		t.Fatalf("the PIN is typed in a %q field", typ)
	}
	agent.do("show the PIN", chromedp.Click(tid("session-pin-show")), chromedp.WaitVisible(tid("session-pin", `[type="text"]`)))
	agent.fill(tid("customer-email"), "dana@example.com")
	agent.do("start the session", chromedp.Click(tid("session-submit")), chromedp.WaitNotPresent(tid("session-dialog")))
	agent.indicator("never_joined")
	// Its agent reads the PIN again, masked until asked.
	agent.contains(tid("session-pin-digits"), "••••••")
	agent.do("reveal the PIN", chromedp.Click(tid("session-pin-reveal")))
	agent.contains(tid("session-pin-digits"), "246813")
	agent.do("hide it", chromedp.Click(tid("session-pin-reveal")))
	agent.contains(tid("session-pin-digits"), "••••••")
	agent.contains(tid("invitation-outcome"), "Invitation sent by email to dana@example.com")
	id := strings.TrimPrefix(agent.js(`location.hash`), "#/s/")
	if !strings.HasPrefix(id, "s_") {
		t.Fatalf("the room did not open: hash %q", id)
	}
	agent.do("the new session is in history", chromedp.WaitVisible(tid("history-item", `[data-id="`+id+`"]`)))

	agent.menu("generate-url")
	agent.do("the link shows", chromedp.WaitVisible(tid("session-url")), chromedp.Click(tid("copy-url")))
	agent.contains(tid("copy-status"), "Copied")
	url := agent.js(`document.querySelector('[data-testid="session-url"]').value`)

	cust.do("customer opens the link", chromedp.Navigate(c.Nodes[1].Server.URL+linkPath(t, url)), chromedp.WaitVisible(tid("pin-input")))
	// The agent sees the customer at the gate, and at which step, live.
	agent.contains(tid("indicator-label"), "At the PIN step")
	cust.do("customer gives the PIN", chromedp.SendKeys(tid("pin-input"), "246813"), chromedp.Click(tid("gate-submit")),
		chromedp.WaitVisible(tid("consent-agree")))
	agent.contains(tid("indicator-label"), "At the consent step")
	cust.readable("the consent page")
	cust.contains(tid("consent-shown"), "Sales may see the documents")
	cust.do("customer agrees", chromedp.Click(tid("consent-agree")), chromedp.WaitVisible(tid("customer-chat-input")))
	cust.contains(chromedp.CSS(".c-agent"), "alex")
	agent.indicator("online_incomplete")
	agent.do("the hover card shows the gates", chromedp.Focus(tid("indicator")), chromedp.WaitVisible(chromedp.CSS(".ind-card")))
	agent.readable("the room with the indicator's card")
	if card := agent.text(chromedp.CSS(".ind-card")); !strings.Contains(card, "Verified (PIN)") || !strings.Contains(card, "Accepted") || strings.Contains(card, "Last seen") {
		t.Fatalf("hover card: %q", card)
	}
	cust.contains(tid("agent-here"), "Here now")
	// The room's log says how the customer confirmed who they are.
	agent.contains(tid("chat-log"), "confirmed who they are with the PIN")

	cust.do("customer types and writes", chromedp.SendKeys(tid("customer-chat-input"), "Hello, I am here"))
	agent.contains(tid("typing"), "Dana is typing")
	cust.do("customer sends", chromedp.Click(tid("customer-chat-send")))
	agent.contains(tid("chat-log"), "Hello, I am here")
	agent.do("agent answers", chromedp.SendKeys(tid("chat-input"), "Welcome Dana! One thing to agree to."), chromedp.Click(tid("chat-send")))
	cust.contains(tid("customer-chat-peek"), "Welcome Dana!")
	agent.contains(tid("chat-log", " .msg-out"), "Delivered")
	// One new message waits; replying reads it.
	cust.contains(tid("chat-unread"), "1")
	cust.do("customer replies", chromedp.SendKeys(tid("customer-chat-input"), "Thanks!"), chromedp.Click(tid("customer-chat-send")),
		chromedp.WaitNotPresent(tid("chat-unread")))
	agent.contains(tid("chat-log"), "Thanks!")

	agent.choose(tid("task-template"), "0")
	agent.do("assign from a template", chromedp.Click(tid("task-add")))
	agent.contains(tid("task-list"), "Agree to the terms")
	cust.do("customer completes the task", chromedp.WaitVisible(tid("task-complete")), chromedp.Click(tid("task-complete")),
		chromedp.WaitVisible(tid("all-done")))
	cust.contains(tid("customer-progress"), "1 of 1 done")
	agent.indicator("online_completed")
	agent.do("the task shows done", chromedp.WaitVisible(tid("task", `[data-status="completed"]`)))

	cust.do("customer closes the tab", chromedp.Navigate("about:blank"))
	agent.indicator("offline_completed")
	agent.do("the history row follows", chromedp.WaitVisible(tid("history-item", `[data-id="`+id+`"][data-indicator="offline_completed"]`)))
	agent.do("last seen shows while offline", chromedp.Focus(tid("indicator")))
	agent.contains(chromedp.CSS(".ind-card"), "Last seen")

	cust.do("customer comes back", chromedp.Navigate(c.Nodes[1].Server.URL+linkPath(t, url)), chromedp.WaitVisible(tid("customer-chat-input")))
	agent.indicator("online_completed")
	if disabled, note := agent.menuItem("renew-session"); !disabled || !strings.Contains(note, "after the session ends") {
		t.Fatalf("renew on an active session: disabled %v, %q", disabled, note)
	}
	agent.menu("end-session")
	agent.contains(tid("end-access"), "Dana keeps read-only access for 72 hours")
	agent.do("confirm the end", chromedp.Click(tid("end-confirm")), chromedp.WaitVisible(tid("ended-banner")))
	if got := agent.text(tid("session-state")); got != "Ended" {
		t.Fatalf("state badge: %q", got)
	}
	agent.do("nothing to write or assign", chromedp.WaitNotPresent(tid("task-add")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-input"]:disabled`)),
		chromedp.WaitVisible(tid("history-item", `[data-id="`+id+`"][data-state="ended"]`)))
	cust.do("customer keeps a read-only page", chromedp.WaitVisible(tid("ended-notice")), chromedp.WaitNotPresent(tid("customer-chat-input")))
	cust.contains(tid("ended-notice"), "read it")
	// The agent no longer shows as here once the session has ended.
	cust.contains(tid("agent-here"), "Not here now")
	cust.readable("the read-only page after the end")

	agent.menu("renew-session")
	agent.do("the room is active again", chromedp.WaitNotPresent(tid("ended-banner")), chromedp.WaitVisible(tid("task-form")))
	cust.do("customer is back", chromedp.WaitVisible(tid("customer-chat-input")), chromedp.WaitNotPresent(tid("ended-notice")))
}

// sentTo returns the newest message the outbox sent to a contact.
func sentTo(c *livetest.Cluster, to string) string {
	c.T.Helper()
	msgs, err := c.Outbox.List(context.Background(), 1000)
	c.Must(err)
	for _, m := range msgs {
		if m.To == to {
			return m.Body
		}
	}
	return ""
}

// linkTo is the /c/… path of the newest link sent to a contact.
func linkTo(c *livetest.Cluster, to string) string {
	c.T.Helper()
	body := sentTo(c, to)
	i := strings.Index(body, "/c/")
	if i < 0 {
		c.T.Fatalf("no link sent to %s: %q", to, body)
	}
	p := body[i:]
	if j := strings.IndexAny(p, " \n"); j >= 0 {
		p = p[:j]
	}
	return p
}

// person adds an account to the cluster's org.
func person(c *livetest.Cluster, email, name, role, team string, settings ...string) *rooms.Agent {
	c.T.Helper()
	a, err := c.Service().Accounts.CreateAgent(context.Background(), rooms.AgentInput{Agent: rooms.Agent{
		Email: email, Name: name, Role: role, TeamID: team, SettingsTeamIDs: settings}, Password: password})
	c.Must(err)
	return a
}

// meet signs alex in on the first node with the session's room open and
// its customer in on a phone, and awaits "online, to do".
func meet(c *livetest.Cluster, t *testing.T, id, link string) (agent, cust tab) {
	t.Helper()
	base := c.Nodes[0].Server.URL
	agent, cust = agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("indicator")))
	cust.do("the customer is in", chromedp.Navigate(base+"/c/"+link), chromedp.WaitVisible(tid("customer-chat-input")))
	agent.indicator("online_incomplete")
	// "Tasks to do" only when there is a task.
	s, err := c.Service().Store().Session(context.Background(), id)
	c.Must(err)
	want := "Online · tasks to do"
	if len(s.Tasks) == 0 {
		want = "Online"
	}
	if got := strings.TrimSpace(agent.text(tid("indicator-label"))); got != want {
		t.Fatalf("the indicator says %q with %d tasks, want %q", got, len(s.Tasks), want)
	}
	// The skip link moves focus to the room and leaves the route alone.
	hash := agent.js(`location.hash`)
	agent.do("skip to the room", chromedp.Focus(tid("skip-link")), chromedp.KeyEvent("\r"))
	if got := agent.js(`location.hash + " " + document.activeElement.id`); got != hash+" main" {
		t.Fatalf("after the skip link: %q, want %q", got, hash+" main")
	}
	return agent, cust
}

// TestPreplanInviteAndReengage: a pre-planned session opens in the room
// as planned (no URL yet, and the menu says why); the agent adds a task,
// corrects the email (nothing is sent), then invites. Before the customer
// joins, re-engage sends a new invitation and the old link shows "replaced";
// once the customer joined, re-engage is refused with the reason.
func TestPreplanInviteAndReengage(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	teamWith(c, "none", "", rooms.TaskTemplate{Kind: "sign", Title: "Sign the offer"})
	base := c.Nodes[0].Server.URL
	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")

	agent.do("pre-plan a session", chromedp.Click(tid("preplan-session")), chromedp.WaitVisible(tid("customer-name")),
		chromedp.SendKeys(tid("customer-name"), "Noor Haddad"), chromedp.SendKeys(tid("customer-email"), "noor@example.org"),
		chromedp.Click(tid("session-submit")), chromedp.WaitVisible(tid("planned-banner")))
	agent.readable("a planned session")
	if disabled, note := agent.menuItem("generate-url"); !disabled || !strings.Contains(note, "Invite first") {
		t.Fatalf("generate URL while planned: disabled %v, %q", disabled, note)
	}
	if disabled, _ := agent.menuItem("renew-session"); !disabled {
		t.Fatal("renew is offered on a planned session")
	}
	agent.choose(tid("task-template"), "adhoc")
	agent.do("an ad hoc task", chromedp.WaitVisible(tid("task-title")))
	agent.fill(tid("task-title"), "Upload a photo ID")
	agent.choose(tid("task-kind"), "upload")
	agent.do("assign it", chromedp.Click(tid("task-add")))
	agent.contains(tid("task-list"), "Upload a photo ID")
	agent.choose(tid("task-template"), "0")
	agent.do("assign a template", chromedp.Click(tid("task-add")))
	agent.contains(tid("task-list"), "Sign the offer")
	agent.do("withdraw it", chromedp.Click(chromedp.CSS(`[data-testid="task"]:nth-child(2) [data-testid="task-withdraw"]`)))
	agent.until("only the first task is left", `document.querySelectorAll('[data-testid="task"]').length === 1`)
	agent.contains(tid("chat-log"), "withdrew “Sign the offer”")

	agent.menu("reengage")
	agent.do("the re-engage form", chromedp.WaitVisible(tid("reengage-dialog")))
	// The dialog opens on its first field, not on its close button.
	if got := agent.js(`document.activeElement.tagName + " " + (document.activeElement.getAttribute("aria-label") || document.activeElement.type)`); got != "INPUT text" {
		t.Fatalf("the re-engage dialog opened with focus on %q", got)
	}
	agent.fill(tid("reengage-dialog", ` [data-testid="customer-email"]`), "noor.haddad@example.org")
	agent.do("save the details", chromedp.Click(tid("reengage-submit")), chromedp.WaitNotPresent(tid("reengage-dialog")))
	if sentTo(c, "noor@example.org") != "" || sentTo(c, "noor.haddad@example.org") != "" {
		t.Fatal("a planned session sent an invitation")
	}
	agent.do("invite", chromedp.Click(tid("invite")), chromedp.WaitNotPresent(tid("planned-banner")))
	agent.contains(tid("invitation-outcome"), "Invitation sent by email to noor.haddad@example.org")
	old := linkTo(c, "noor.haddad@example.org")

	agent.menu("reengage")
	agent.fill(tid("reengage-dialog", ` [data-testid="customer-email"]`), "noor@example.net")
	agent.do("send a new invitation", chromedp.Click(tid("reengage-submit")), chromedp.WaitNotPresent(tid("reengage-dialog")))
	agent.contains(tid("invitation-outcome"), "Invitation sent by email to noor@example.net")
	agent.contains(tid("chat-log"), "changed the contact details")

	cust.do("the old link was replaced", chromedp.Navigate(base+old), chromedp.WaitVisible(tid("replaced")))
	cust.readable("the replaced link's page")
	cust.do("the new link opens the room", chromedp.Navigate(base+linkTo(c, "noor@example.net")), chromedp.WaitVisible(tid("customer-chat-input")))
	cust.contains(tid("customer-tasks"), "Upload a photo ID")
	agent.indicator("online_incomplete")
	if disabled, note := agent.menuItem("reengage"); !disabled || note != "Not available: Noor already joined" {
		t.Fatalf("re-engage after the join: disabled %v, %q", disabled, note)
	}
}

// TestSettingsTeamAndConsentText: an admin changes a team's consent text
// on the team page; an agent starts a session with that other team's
// settings, and the customer reads the new text.
func TestSettingsTeamAndConsentText(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	ctx := context.Background()
	support, err := c.Service().Accounts.CreateTeam(ctx, "Support", nil)
	c.Must(err)
	support.Settings.Consent = rooms.ConsentSetting{Required: true, Text: "Support may read your account notes."}
	_, err = c.Service().Accounts.UpdateTeam(ctx, support)
	c.Must(err)
	c.Alex.SettingsTeamIDs = []string{support.ID}
	_, err = c.Service().Accounts.UpdateAgent(ctx, c.Alex.ID, rooms.AgentInput{Agent: *c.Alex})
	c.Must(err)
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	base := c.Nodes[0].Server.URL

	admin := agentTab(t, "admin")
	admin.login(base, "ada@cohub.test")
	admin.do("open the team", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("settings-form")),
		chromedp.Click(tid("admin-teams")), chromedp.Click(tid("team-item", `[data-id="`+support.ID+`"]`)),
		chromedp.WaitVisible(tid("consent-text")))
	admin.fill(tid("consent-text"), "Support may read your account notes and open a ticket for you.")
	admin.contains(tid("template-preview"), "open a ticket for you")
	admin.readable("a team's settings")
	admin.do("save the team", chromedp.Click(tid("team-save")))
	admin.contains(chromedp.CSS(".toast"), "Support saved")
	admin.do("add an agent", chromedp.Click(tid("admin-agents")), chromedp.Click(tid("agent-add")), chromedp.WaitVisible(tid("agent-dialog")),
		chromedp.SendKeys(tid("agent-name"), "Riley Rowe"), chromedp.SendKeys(tid("agent-email"), "riley@cohub.test"),
		chromedp.SendKeys(tid("agent-password"), "short"))
	admin.choose(tid("agent-role"), "supervisor")
	admin.do("save too short a password", chromedp.Click(tid("agent-save")))
	admin.contains(chromedp.CSS("#ag-password-err"), "at least 10 characters")
	admin.readable("the agent dialog with an error")
	admin.fill(tid("agent-password"), "a-long-enough-password")
	admin.do("save", chromedp.Click(tid("agent-save")), chromedp.WaitVisible(tid("agent-row", `[data-email="riley@cohub.test"]`)))
	admin.contains(tid("agent-row", `[data-email="riley@cohub.test"]`), "Supervisor")
	admin.readable("the agents")

	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")
	agent.do("start with Support's settings", chromedp.Click(tid("start-session")), chromedp.WaitVisible(tid("customer-name")),
		chromedp.SendKeys(tid("customer-name"), "Marco Ruiz"), chromedp.SendKeys(tid("customer-email"), "marco@example.com"),
		chromedp.Click(tid("session-settings")), chromedp.WaitVisible(tid("settings-team")))
	if opts := agent.js(`[...document.querySelectorAll('[data-testid="settings-team"] option')].map(o => o.textContent).join("|")`); opts != "Sales (your team)|Support" {
		t.Fatalf("settings teams offered: %q", opts)
	}
	agent.choose(tid("settings-team"), support.ID)
	agent.do("start", chromedp.Click(tid("session-submit")), chromedp.WaitVisible(tid("indicator")))
	agent.contains(chromedp.CSS(".room-meta"), "Support settings")
	cust.do("the customer reads the new consent", chromedp.Navigate(base+linkTo(c, "marco@example.com")), chromedp.WaitVisible(tid("consent-shown")))
	cust.contains(tid("consent-shown"), "open a ticket for you")
}

// TestOrgSettingsInBrowser: every org setting is on the admin's settings
// page; how long ended sessions keep their files is set there (a value out
// of range answered next to its field), and the outbox shows what was sent.
func TestOrgSettingsInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	ctx := context.Background()
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Olga Outbox", Email: "olga@example.com"}})
	before, err := c.Service().Store().Settings(ctx)
	c.Must(err)
	admin := agentTab(t, "admin")
	admin.login(c.Nodes[0].Server.URL, "ada@cohub.test")
	admin.do("org settings", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("settings-form")),
		chromedp.WaitVisible(tid("set-retention")))
	if got := admin.attr(tid("set-retention"), "aria-describedby"); got != "set-retention-hint" {
		t.Fatalf("the retention field has no explanation: %q", got)
	}
	admin.fill(tid("set-retention"), "5000")
	admin.do("save too long a retention", chromedp.Click(tid("settings-save")))
	admin.contains(chromedp.CSS("#set-retention-err"), "3650")
	// A failed save lands the admin on what to fix.
	admin.until("focus is on the field to fix", `document.activeElement && document.activeElement.id === "set-retention"`)
	admin.fill(tid("set-retention"), "30")
	admin.do("save", chromedp.Click(tid("settings-save")))
	admin.contains(chromedp.CSS(".toast"), "Org settings saved")
	after, err := c.Service().Store().Settings(ctx)
	c.Must(err)
	if after.AssetRetentionDays != 30 {
		t.Fatalf("asset_retention_days = %d, want 30", after.AssetRetentionDays)
	}
	after.AssetRetentionDays = before.AssetRetentionDays
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("saving changed other settings: %+v, was %+v", after, before)
	}
	// The settings page shows who seals signed copies, and says plainly
	// that the identity derived from the secret is self-signed.
	admin.contains(tid("signing-name"), "Cohub (self-signed)")
	admin.contains(tid("signing-self-signed"), "self-signed")
	admin.readable("the settings with the signing identity")
	admin.do("the outbox", chromedp.Click(tid("admin-outbox")), chromedp.WaitVisible(tid("outbox-item")))
	admin.contains(tid("outbox-list"), "olga@example.com")
	admin.readable("the outbox")
}

// TestAdminSettingsReachAgents: what an admin picks on the settings page
// reaches agents and customers. With "every session" an agent's history
// offers All and lists another team's session; with full access after the
// end, the agent's End says so and the customer can still write after it.
func TestAdminSettingsReachAgents(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	ctx := context.Background()
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	claims, err := c.Service().Accounts.CreateTeam(ctx, "Claims", nil)
	c.Must(err)
	olive := person(c, "olive@cohub.test", "Olive Other", rooms.RoleAgent, claims.ID)
	_, err = c.Service().Sessions.Create(ctx, olive, rooms.CreateRequest{Mode: "start", Customer: rooms.Customer{Name: "Otto Elsewhere", Email: "otto@example.com"}})
	c.Must(err)
	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Fay Full", Email: "fay@example.com"}})
	base := c.Nodes[0].Server.URL

	admin := agentTab(t, "admin")
	admin.login(base, "ada@cohub.test")
	admin.do("org settings", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("set-end-mode")))
	admin.choose(tid("set-end-mode"), rooms.AccessFull)
	admin.choose(tid("set-space"), "all")
	admin.do("save", chromedp.Click(tid("settings-save")))
	admin.contains(chromedp.CSS(".toast"), "Org settings saved")

	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")
	agent.do("every session", chromedp.Click(tid("history-scope", ` [data-scope="all"]`)))
	agent.contains(tid("history-list"), "Otto Elsewhere")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("indicator")))
	cust.do("the customer is in", chromedp.Navigate(base+"/c/"+link), chromedp.WaitVisible(tid("customer-chat-input")))
	agent.indicator("online_incomplete")
	agent.readable("the room")
	cust.readable("the customer's room")
	admin.readable("org settings")
	agent.menu("end-session")
	agent.readable("the end dialog")
	agent.contains(tid("end-access"), "Fay keeps full access")
	agent.do("end", chromedp.Click(tid("end-confirm")), chromedp.WaitVisible(tid("ended-banner")))
	cust.contains(tid("ended-notice"), "you can still use it")
	cust.do("the customer writes after the end", chromedp.SendKeys(tid("customer-chat-input"), "One more question"),
		chromedp.Click(tid("customer-chat-send")))
	agent.contains(tid("chat-log"), "One more question")
}

// TestHistoryInBrowser: the scopes the org allows, the completed and
// incomplete filter, contact search, infinite scroll, and the Updated
// sessions count rising live when a customer acts and falling when the
// agent opens the session; a supervisor starts on their team's history
// and can act in a teammate's room.
func TestHistoryInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	ctx := context.Background()
	svc := c.Service()
	mk := func(a *rooms.Agent, name, email string, mode string, tasks ...rooms.TaskTemplate) *rooms.Session {
		s, err := svc.Sessions.Create(ctx, a, rooms.CreateRequest{Mode: mode, Customer: rooms.Customer{Name: name, Email: email}, Tasks: tasks})
		c.Must(err)
		return s
	}
	for i := range 32 {
		mk(c.Alex, fmt.Sprintf("Older %02d", i), fmt.Sprintf("older%02d@example.com", i), "start")
	}
	done := mk(c.Alex, "Zed Done", "zed@example.com", "start", rooms.TaskTemplate{Kind: "custom", Title: "Call back"})
	_, err := svc.Gates.CompleteTask(ctx, done.ID, done.Tasks[0].ID, nil)
	c.Must(err)
	open := mk(c.Alex, "Ann Open", "ann@example.com", "start", rooms.TaskTemplate{Kind: "custom", Title: "Call back"})
	mk(c.Alex, "Bo Planned", "bo@example.com", "preplan")
	mk(c.Blake, "Cy Teammate", "cy@example.com", "start")
	person(c, "sam@cohub.test", "Sam Supervisor", rooms.RoleSupervisor, c.Team.ID)
	base := c.Nodes[0].Server.URL

	agent := agentTab(t, "agent")
	agent.login(base, "alex@cohub.test")
	rows := `document.querySelectorAll('[data-testid="history-list"] [data-testid="history-item"]')`
	names := `[...` + rows + `].map(r => r.querySelector(".row-name").textContent).join("|")`
	// 30 rows a page; the second may follow at once if the sentinel shows
	// before the rows' layout settles (a loaded machine), hence ">=".
	agent.until("the first page", rows+`.length >= 30`)
	if scopes := agent.js(`[...document.querySelectorAll('[data-testid="history-scope"] button')].map(b => b.dataset.scope + ":" + b.getAttribute("aria-pressed")).join(" ")`); scopes != "mine:true team:false" {
		t.Fatalf("scopes: %q", scopes)
	}
	agent.contains(tid("updated-count"), "1")
	agent.do("scroll to the end", chromedp.ScrollIntoView(chromedp.CSS(".sentinel")))
	agent.until("the next page", rows+`.length === 35`)

	agent.choose(tid("history-filter"), "completed")
	agent.until("completed only", names+` === "Zed Done"`)
	agent.choose(tid("history-filter"), "incomplete")
	agent.until("incomplete only", rows+`.length === 30 && !`+names+`.includes("Zed")`)
	agent.choose(tid("history-filter"), "all")
	agent.do("search", chromedp.SendKeys(tid("history-search"), "ann@"))
	agent.until("the search result", names+` === "Ann Open"`)

	_, err = svc.Gates.CompleteTask(ctx, open.ID, open.Tasks[0].ID, nil)
	c.Must(err)
	agent.contains(tid("updated-count"), "2")
	agent.until("Ann's row stays in the search", `!!document.querySelector('[data-testid="history-list"] [data-id="`+open.ID+`"][data-indicator="never_joined"]') && `+names+` === "Ann Open"`)
	agent.do("open Ann's session", chromedp.Click(tid("history-list", ` [data-id="`+open.ID+`"]`)), chromedp.WaitVisible(tid("indicator")))
	agent.contains(tid("updated-count"), "1")

	agent.do("the team's history", chromedp.Click(tid("history-scope", ` [data-scope="team"]`)))
	agent.fill(tid("history-search"), "")
	agent.until("a teammate's session shows", names+`.includes("Cy Teammate")`)
	// The choice outlives a reload, in this browser.
	agent.do("reload", chromedp.Reload(), chromedp.WaitVisible(tid("history-scope", ` [data-scope="team"][aria-pressed="true"]`)))

	sup := agentTab(t, "supervisor")
	sup.login(base, "sam@cohub.test")
	sup.do("supervisors start on their team", chromedp.WaitVisible(tid("history-scope", ` [data-scope="team"][aria-pressed="true"]`)))
	sup.until("the team's sessions", `[...`+rows+`].some(r => r.textContent.includes("Cy Teammate"))`)
	sup.do("open a teammate's session", chromedp.Click(chromedp.CSS(`[data-testid="history-list"] [data-testid="history-item"][data-id]:not([data-id="`+open.ID+`"])`)),
		chromedp.WaitVisible(tid("indicator")), chromedp.WaitVisible(tid("task-add")))
}

// TestKeyboardOnly: sign in, open a session, send a message and use the
// session menu with the keyboard alone.
func TestKeyboardOnly(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	id, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Kim Keys", Email: "kim@example.com"}})
	agent := agentTab(t, "agent")
	// tabTo presses Tab until the focus is on a test id.
	tabTo := func(testid string) {
		t.Helper()
		for range 40 {
			if agent.js(`(document.activeElement && document.activeElement.dataset.testid) || ""`) == testid {
				return
			}
			agent.do("tab", chromedp.KeyEvent("\t"))
		}
		t.Fatalf("Tab never reached %s", testid)
	}
	for i := range 5 {
		c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: fmt.Sprintf("Other %d", i), Email: fmt.Sprintf("o%d@example.com", i)}})
	}
	agent.do("open the console", chromedp.Navigate(c.Nodes[0].Server.URL+"/"), chromedp.WaitVisible(tid("login-email")))
	if n := agent.js(`performance.getEntriesByType("resource").filter(e => e.name.endsWith("/api/me")).length + ""`); n != "0" {
		t.Fatalf("the signed-out console asked /api/me %s times (a 401 the browser logs as an error)", n)
	}
	tabTo("login-email")
	agent.do("type the email", chromedp.KeyEvent("alex@cohub.test"))
	tabTo("login-password")
	agent.do("type the password and press Enter", chromedp.KeyEvent(password+"\r"), chromedp.WaitVisible(tid("start-session")))
	agent.do("history", chromedp.WaitVisible(tid("history-item", `[data-id="`+id+`"]`)))
	tabTo("history-item")
	// The list is one stop of the Tab key; the arrows walk its rows.
	first := agent.js(`document.activeElement.dataset.id`)
	agent.do("the next row", chromedp.KeyEvent(kb.ArrowDown))
	if next := agent.js(`document.activeElement.dataset.id`); next == first || next == "" {
		t.Fatalf("ArrowDown left the focus on %q (first row %q)", next, first)
	}
	agent.do("back to the top", chromedp.KeyEvent(kb.Home))
	if agent.js(`document.activeElement.dataset.id`) != first {
		t.Fatal("Home did not go back to the first row")
	}
	agent.do("tab out of the list", chromedp.KeyEvent("\t"))
	if agent.js(`(document.activeElement.dataset && document.activeElement.dataset.testid) || ""`) == "history-item" {
		t.Fatal("Tab moved to another row, not out of the list")
	}
	agent.do("open it", chromedp.Navigate(c.Nodes[0].Server.URL+"/#/s/"+id), chromedp.WaitVisible(tid("indicator")))
	// From Start session, the session's menu is a few stops away, however
	// long the history.
	agent.do("focus Start session", chromedp.Focus(tid("start-session")))
	stops := 0
	for ; stops < 30 && agent.js(`(document.activeElement && document.activeElement.dataset.testid) || ""`) != "session-menu"; stops++ {
		agent.do("tab", chromedp.KeyEvent("\t"))
	}
	if stops > 12 {
		t.Fatalf("%d stops of the Tab key from Start session to the session menu; want at most 12", stops)
	}
	t.Logf("%d stops from Start session to the session menu", stops)
	tabTo("chat-input")
	agent.do("write and send", chromedp.KeyEvent("Sent with the keyboard\r"))
	agent.contains(tid("chat-log"), "Sent with the keyboard")
	tabTo("session-menu")
	// The focus moves once the menu has rendered: awaited, not read at once.
	agent.do("open the menu", chromedp.KeyEvent("\r"), chromedp.WaitVisible(tid("generate-url")))
	agent.until("the menu's first item has the focus", `document.activeElement && document.activeElement.dataset.testid === "generate-url"`)
	agent.do("move and close", chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(tid("generate-url")))
	agent.until("the focus is back on the menu button", `document.activeElement && document.activeElement.dataset.testid === "session-menu"`)
	if outline := agent.js(`getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Fatal("the focused button shows no focus outline")
	}
}

// TestCustomerGatesInBrowser: a one-time code with its cool-down, a
// wrong code answered with the tries left, consent declined (a page to
// come back from) and then given.
func TestCustomerGatesInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	teamWith(c, "otp", "I agree to share my documents with Sales.")
	_, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Olu Otp", Email: "olu@example.com"}})
	cust := customerTab(t)
	cust.do("open the link", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link), chromedp.WaitVisible(tid("otp-send")))
	cust.contains(tid("gate-auth"), "from Sales invited you")
	cust.do("ask for a code", chromedp.Click(tid("otp-send")), chromedp.WaitVisible(tid("otp-input")), chromedp.WaitVisible(tid("otp-cooldown")))
	cust.contains(tid("gate-auth"), "o***@example.com")
	cust.readable("the one-time code page")
	body := sentTo(c, "olu@example.com")
	i := strings.Index(body, "code is ")
	if i < 0 {
		t.Fatalf("no code sent: %q", body)
	}
	code := body[i+8 : i+14]
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	cust.do("a wrong code", chromedp.SendKeys(tid("otp-input"), wrong), chromedp.Click(tid("gate-submit")))
	cust.contains(chromedp.CSS("#gate-err"), "You have 4 tries left")
	cust.do("the right code", chromedp.SendKeys(tid("otp-input"), code), chromedp.Click(tid("gate-submit")), chromedp.WaitVisible(tid("consent-disagree")))
	cust.do("disagree", chromedp.Click(tid("consent-disagree")), chromedp.WaitVisible(tid("declined")))
	cust.do("reload: still declined", chromedp.Reload(), chromedp.WaitVisible(tid("declined")))
	cust.readable("the declined page")
	cust.do("come back and agree", chromedp.Click(tid("consent-review")), chromedp.Click(tid("consent-agree")), chromedp.WaitVisible(tid("customer-chat-input")))
}

// TestSignInEndedAndNothingKept: when the agent's login ends (signed out
// elsewhere) the console says so and offers to sign in again; a session
// ended with access "none" shows the customer the ended page, and a renew
// brings them back without a reload.
func TestSignInEndedAndNothingKept(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	c.EndAccess(rooms.AccessNone, 0)
	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Tom Becker", Email: "tom@example.net"}})
	agent, cust := meet(c, t, id, link)
	agent.menu("end-session")
	agent.contains(tid("end-access"), "Tom loses access at once")
	agent.do("end", chromedp.Click(tid("end-confirm")), chromedp.WaitVisible(tid("ended-banner")))
	cust.do("the customer sees the ended page", chromedp.WaitVisible(tid("ended")))
	cust.readable("the ended page")
	agent.do("renew", chromedp.Click(chromedp.CSS(".room-actions .btn:not(.btn-primary)")), chromedp.WaitNotPresent(tid("ended-banner")))
	cust.do("the customer is back", chromedp.WaitVisible(tid("customer-chat-input")))

	c.Must(c.Service().Accounts.Logout(context.Background(), agent.cookie("cohub_auth")))
	agent.do("the console says the sign-in ended", chromedp.WaitVisible(tid("login-expired")))
	agent.readable("the sign-in ended page")
	agent.do("sign in again", chromedp.SendKeys(tid("login-password"), password), chromedp.Click(tid("login-submit")),
		chromedp.WaitVisible(tid("start-session")))
}

// TestSmallScreens: nothing runs off the side of the customer's page at
// 360 px (gates and room, with a long title and an unbroken message), nor
// of the console at 768 px with the history open beside the room (not
// over its indicator), nor of the console at 360 px, where the history is
// a drawer.
func TestSmallScreens(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	teamWith(c, "pin", "I agree to share my documents.")
	id, link := c.Session(rooms.CreateRequest{PIN: "246813", Customer: rooms.Customer{Name: "Sam Small", Email: "sam@example.com"},
		Tasks: []rooms.TaskTemplate{{Kind: "sign", Title: "Sign the supplementary agreement on the renegotiated repayment schedule of 2026"}}})
	long := strings.Repeat("x", 120)
	fits := `document.documentElement.scrollWidth <= window.innerWidth`
	cust := tab{t: t, ctx: browsertest.StartWith(t, browsertest.Options{Width: 360, Height: 740, Mobile: true}), name: "customer"}
	cust.do("the PIN page", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link), chromedp.WaitVisible(tid("pin-input")))
	cust.until("the PIN page fits", fits)
	cust.do("into the room", chromedp.SendKeys(tid("pin-input"), "246813"), chromedp.Click(tid("gate-submit")),
		chromedp.Click(tid("consent-agree")), chromedp.WaitVisible(tid("customer-chat-input")),
		chromedp.SendKeys(tid("customer-chat-input"), long), chromedp.Click(tid("customer-chat-send")))
	// The sheet's handle moves while the message goes from pending to sent:
	// open it once the room has the message, or the tap can land beside it.
	cust.contains(tid("customer-chat-peek"), long)
	cust.do("open the conversation", chromedp.Click(tid("chat-toggle")), chromedp.WaitVisible(tid("customer-chat-log")))
	cust.contains(tid("customer-chat-log"), long)
	cust.until("the room fits", fits)

	agent := tab{t: t, ctx: browsertest.StartWith(t, browsertest.Options{Width: 768, Height: 1024}), name: "agent"}
	agent.login(c.Nodes[0].Server.URL, "alex@cohub.test")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("indicator")))
	agent.contains(tid("chat-log"), long)
	agent.until("the console fits", fits+` && document.querySelector('[data-testid="chat-send"]').getBoundingClientRect().right <= window.innerWidth`)
	// At 768 px the history stays beside the room: nothing covers the indicator.
	uncovered := `(() => { const el = document.querySelector('[data-testid="indicator"]'); const r = el.getBoundingClientRect();
		return el.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)); })()`
	agent.do("the history is still open", chromedp.WaitVisible(chromedp.CSS("#history")))
	agent.until("the indicator is not covered", uncovered)

	// Below 768 px a room opened from its address shows the room, and the
	// history is a drawer the agent opens over it and that closes on a pick.
	phone := tab{t: t, ctx: browsertest.StartWith(t, browsertest.Options{Width: 360, Height: 740}), name: "agent at 360 px"}
	phone.login(c.Nodes[0].Server.URL, "alex@cohub.test")
	phone.until("the header fits", fits)
	phone.do("open the room by its address", chromedp.Navigate(c.Nodes[0].Server.URL+"/#/s/"+id), chromedp.Reload(),
		chromedp.WaitVisible(tid("indicator")), chromedp.WaitNotPresent(chromedp.CSS("#history")))
	phone.until("the room fits, its indicator uncovered", fits+" && "+uncovered)
	phone.do("open the history over the room", chromedp.Click(tid("history-toggle")), chromedp.WaitVisible(chromedp.CSS("#history")))
	phone.do("pick the session", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitNotPresent(chromedp.CSS("#history")),
		chromedp.WaitVisible(tid("history-toggle", `[aria-expanded="false"]`)))
}

// TestReconnectResumes: when both connections drop (as in a restart or
// a network fault), the pages reconnect by themselves and resume: a message
// the agent sends meanwhile is sent again once the room is joined again,
// and each side shows it exactly once.
func TestReconnectResumes(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Rae Connect", Email: "rae@example.com"}})
	other, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Otto Other", Email: "otto@example.com"}})
	agent, cust := meet(c, t, id, link)
	cust.do("open the conversation", chromedp.Click(tid("chat-toggle")))

	c.Nodes[0].DropConnections()
	agent.fill(tid("chat-input"), "Written while you were away")
	agent.do("send while the connection is down", chromedp.Click(tid("chat-send")))
	once := func(log string) string {
		return `[...document.querySelectorAll('[data-testid="` + log + `"] .msg-text')].filter(e => e.textContent === "Written while you were away").length === 1 && !document.querySelector('[data-testid="` + log + `"] .msg-pending')`
	}
	agent.until("the message is sent once", once("chat-log"))
	cust.until("the customer gets it once", once("customer-chat-log"))
	cust.do("and answers", chromedp.SendKeys(tid("customer-chat-input"), "Back again"), chromedp.Click(tid("customer-chat-send")))
	agent.contains(tid("chat-log"), "Back again")
	if n := agent.js(`String(document.querySelectorAll('[data-testid="chat-log"] .msg').length)`); n != "2" {
		t.Fatalf("the agent's log has %s messages, want 2", n)
	}

	// Away to another room and back: the first room resumes from what it
	// held, with what was said meanwhile, nothing twice.
	agent.do("open another room", chromedp.Click(tid("history-list", ` [data-id="`+other+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.room[data-session="`+other+`"]`)))
	cust.do("the customer writes meanwhile", chromedp.SendKeys(tid("customer-chat-input"), "Are you still there?"),
		chromedp.Click(tid("customer-chat-send")))
	cust.contains(tid("customer-chat-log"), "Are you still there?")
	agent.do("back to the first room", chromedp.Click(tid("history-list", ` [data-id="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.room[data-session="`+id+`"]`)))
	agent.contains(tid("chat-log"), "Are you still there?")
	if n := agent.js(`String(document.querySelectorAll('[data-testid="chat-log"] .msg').length)`); n != "3" {
		t.Fatalf("the agent's log has %s messages after coming back, want 3", n)
	}
}

// TestConnectionLostBanners: while the server keeps dropping the live
// connections, the console shows its discreet banner and the customer's
// page says the connection is lost; once it stops, both go away by
// themselves and the room works again. When the customer leaves with a
// task still to do, the indicator says offline, tasks to do.
func TestConnectionLostBanners(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Lou Lost", Email: "lou@example.com"}})
	agent, cust := meet(c, t, id, link)

	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				c.Nodes[0].DropConnections()
			}
		}
	}()
	agent.do("the console says the connection is lost", chromedp.WaitVisible(tid("offline-banner")))
	cust.do("the customer's page says so", chromedp.WaitVisible(tid("reconnecting")))
	cust.contains(tid("reconnecting"), "Reconnecting")
	cust.contains(tid("agent-here"), "Not here now")
	close(stop)
	<-stopped

	agent.do("the console is back", chromedp.WaitNotPresent(tid("offline-banner")))
	cust.do("the customer's page is back", chromedp.WaitNotPresent(tid("reconnecting")),
		chromedp.SendKeys(tid("customer-chat-input"), "Still here"), chromedp.Click(tid("customer-chat-send")))
	agent.contains(tid("chat-log"), "Still here")
	cust.do("the customer leaves", chromedp.Navigate("about:blank"))
	agent.indicator("offline_incomplete")
	agent.contains(tid("indicator"), "Offline")
}

// TestInvitationChoices: with SMS off the form offers only email; with
// external invitations it says no invitation will be sent and takes both
// contacts, and the room says nothing was sent.
func TestInvitationChoices(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	ctx := context.Background()
	set, err := c.Service().Store().Settings(ctx)
	c.Must(err)
	set.SMSEnabled = false
	_, err = c.Service().Accounts.PutSettings(ctx, set)
	c.Must(err)
	agent := agentTab(t, "agent")
	agent.login(c.Nodes[0].Server.URL, "alex@cohub.test")
	agent.do("SMS off: email only", chromedp.Click(tid("start-session")), chromedp.WaitVisible(tid("customer-email")),
		chromedp.WaitNotPresent(tid("channel-phone")), chromedp.WaitNotPresent(tid("customer-phone")),
		chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(tid("session-dialog")))

	set.SMSEnabled, set.InvitationMode = true, rooms.InviteExternal
	_, err = c.Service().Accounts.PutSettings(ctx, set)
	c.Must(err)
	agent.do("external: both contacts", chromedp.Reload(), chromedp.WaitVisible(tid("start-session")), chromedp.Click(tid("start-session")),
		chromedp.WaitVisible(tid("external-notice")), chromedp.SendKeys(tid("customer-name"), "Phil Ortega"),
		chromedp.SendKeys(tid("customer-email"), "phil@example.com"), chromedp.SendKeys(tid("customer-phone"), "415 555 0144"),
		chromedp.Click(tid("session-submit")), chromedp.WaitVisible(tid("indicator")))
	agent.contains(tid("invitation-outcome"), "No invitation was sent")
	agent.contains(chromedp.CSS(".room-meta"), "phil@example.com · +1 415 555 0144")
}

// TestSecondBrowserPassesTheGates: the same link opened in a second
// browser is refused by the live room until that browser passes the gates
// itself; the page shows the gates again instead of reconnecting for ever.
func TestSecondBrowserPassesTheGates(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	teamWith(c, "pin", "I agree to share my documents.")
	_, link := c.Session(rooms.CreateRequest{PIN: "246813", Customer: rooms.Customer{Name: "Gil Gates", Email: "gil@example.com"}})
	url := c.Nodes[0].Server.URL + "/c/" + link
	first, second := customerTab(t), customerTab(t)
	first.do("the first browser passes the gates", chromedp.Navigate(url), chromedp.SendKeys(tid("pin-input"), "246813"),
		chromedp.Click(tid("gate-submit")), chromedp.Click(tid("consent-agree")), chromedp.WaitVisible(tid("customer-chat-input")))
	second.do("the second browser is asked again", chromedp.Navigate(url), chromedp.WaitVisible(tid("pin-input")),
		chromedp.SendKeys(tid("pin-input"), "246813"), chromedp.Click(tid("gate-submit")))
	// Consent is asked again where the server keeps gate answers per
	// browser; where it keeps them per session, the PIN is enough.
	second.until("consent or the room", `!!document.querySelector('[data-testid="consent-agree"], [data-testid="customer-chat-input"]')`)
	if second.js(`document.querySelector('[data-testid="consent-agree"]') ? "consent" : ""`) == "consent" {
		second.do("agree", chromedp.Click(tid("consent-agree")))
	}
	second.do("gets in and writes", chromedp.WaitVisible(tid("customer-chat-input")),
		chromedp.SendKeys(tid("customer-chat-input"), "Hello from my phone"), chromedp.Click(tid("customer-chat-send")))
	first.contains(tid("customer-chat-peek"), "Hello from my phone")
}

// TestTooManyTabs: a gated session open in more tabs than the bound
// says so in the extra tab (not the gates again: its browser passed them)
// and that tab connects by itself once another tab closes.
func TestTooManyTabs(t *testing.T) {
	cfg := livetest.Fast()
	cfg.MaxConnsPerLink = 1
	c := livetest.NewCluster(t, "memory", 1, cfg)
	teamWith(c, "pin", "")
	_, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Tia Tabs", Email: "tia@example.com"}, PIN: "135791"})
	second := customerTab(t)
	firstCtx, closeFirst := chromedp.NewContext(second.ctx)
	defer closeFirst()
	// Open the tab before a step's deadline, as a phone like the first.
	if err := chromedp.Do(firstCtx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	first := tab{t: t, ctx: firstCtx, name: "first tab"}
	first.do("the gates, then the room", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link), chromedp.WaitVisible(tid("pin-input")),
		chromedp.SendKeys(tid("pin-input"), "135791"), chromedp.Click(tid("gate-submit")), chromedp.WaitVisible(tid("customer-chat-input")))
	second.do("the same link in a second tab", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link))
	second.contains(tid("too-many-tabs"), "open in too many tabs")
	if got := second.js(`document.querySelector('[data-testid="pin-input"]') ? "gates" : "room"`); got != "room" {
		t.Fatalf("the second tab shows the %s", got)
	}
	closeFirst()
	second.do("the second tab connects once the first is gone", chromedp.WaitNotPresent(tid("too-many-tabs")),
		chromedp.SendKeys(tid("customer-chat-input"), "Only this tab now"), chromedp.Click(tid("customer-chat-send")))
	second.contains(tid("customer-chat-peek"), "Only this tab now")
}

// A customer's pass belongs to the browser that earned it: two gated
// sessions live side by side in one browser, and the same link opened in
// another browser is offered the gates again, not the room.
func TestCustomerPassesArePerBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "redis", 1, livetest.Fast())
	c.Gate()
	one, linkOne := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"}, PIN: "111111"})
	two, linkTwo := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"}, PIN: "222222"})
	base := c.Nodes[0].Server.URL + "/c/"
	type css = chromedp.CSS
	tid := func(id string) css { return css(`[data-testid="` + id + `"]`) }
	pass := func(b context.Context, link, pin string) error {
		return chromedp.Do(b,
			chromedp.Navigate(base+link),
			chromedp.WaitVisible(tid("pin-input")),
			chromedp.SendKeys(tid("pin-input"), pin),
			chromedp.Click(tid("gate-submit")),
			chromedp.WaitVisible(tid("consent-agree")),
			chromedp.Click(tid("consent-agree")),
			chromedp.WaitVisible(tid("customer-chat-input")))
	}

	browser := browsertest.Start(t)
	tabOne := browser
	tabTwo, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	if err := pass(tabOne, linkOne, "111111"); err != nil {
		t.Fatalf("first session's gates: %v", err)
	}
	if err := pass(tabTwo, linkTwo, "222222"); err != nil {
		t.Fatalf("second session's gates: %v", err)
	}
	// The first tab, reloaded, still has its room: its pass was not
	// overwritten by the second session's.
	agent := c.Agent(c.Nodes[0], one)
	if err := chromedp.Do(tabOne,
		chromedp.Reload(),
		chromedp.WaitVisible(tid("customer-chat-input")),
		chromedp.SendKeys(tid("customer-chat-input"), "still here"),
		chromedp.Click(tid("customer-chat-send"))); err != nil {
		t.Fatalf("first tab after the second session: %v", err)
	}
	agent.Await("the first tab's message", func(f livetest.Frame) bool {
		return f.Op == "event" && f.Topic == bus.RoomTopic(one) && f.Map()["text"] == "still here"
	})

	// Another browser with the first link is offered the gates.
	other := browsertest.Start(t)
	if err := chromedp.Do(other, chromedp.Navigate(base+linkOne), chromedp.WaitVisible(tid("pin-input"))); err != nil {
		t.Fatalf("second browser: %v", err)
	}
	visible, err := chromedp.Run(other,
		chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="customer-chat-input"]')?.offsetParent`))
	if err != nil {
		t.Fatalf("second browser: %v", err)
	}
	if visible {
		t.Fatal("a second browser sees the room without passing the gates")
	}
	_ = two
}

// A transcript longer than a replay page reaches the page whole: the
// client library follows the pages.
func TestLongTranscriptInBrowser(t *testing.T) {
	cfg := livetest.Fast()
	cfg.ReplayPage = 40
	c := livetest.NewClusterWith(t, "memory", 1, cfg, livetest.Options{Rooms: livetest.Unlimited})
	id, link := c.Session(rooms.CreateRequest{})
	c.Fill(id, 150, "line-")
	cust := browsertest.Start(t)
	// The conversation is a sheet: opened, it shows the whole transcript.
	if err := chromedp.Do(cust, chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link),
		chromedp.WaitVisible(tid("chat-toggle")), chromedp.Click(tid("chat-toggle")),
		chromedp.WaitVisible(tid("customer-chat-log")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="customer-chat-log"]').textContent.includes("line-149")`)); err != nil {
		t.Fatalf("customer page: %v", err)
	}
	seen, err := chromedp.Run(cust, chromedp.Evaluate[int](
		`new Set([...document.querySelector('[data-testid="customer-chat-log"]').textContent.matchAll(/line-(\d+)/g)].map(m => m[1])).size`))
	if err != nil {
		t.Fatal(err)
	}
	if seen != 150 {
		t.Fatalf("%d of 150 messages on the page", seen)
	}
}

// TestLockoutAndUnlockInBrowser: five wrong PINs lock the customer out
// and the page says until when; the agent's indicator says locked, and
// Unlock in the session menu lets the customer try again.
func TestLockoutAndUnlockInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	teamWith(c, "pin", "")
	id, link := c.Session(rooms.CreateRequest{PIN: "246813", Customer: rooms.Customer{Name: "Lee Locked", Email: "lee@example.com"}})
	base := c.Nodes[0].Server.URL
	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("indicator")))

	cust.do("the PIN page", chromedp.Navigate(base+"/c/"+link), chromedp.WaitVisible(tid("pin-input")))
	for i := range rooms.MaxAuthFail {
		cust.do(fmt.Sprint("wrong PIN ", i+1), chromedp.SendKeys(tid("pin-input"), "000000"), chromedp.Click(tid("gate-submit")))
		if i < rooms.MaxAuthFail-1 {
			cust.contains(chromedp.CSS("#gate-err"), fmt.Sprintf("%d tr", rooms.MaxAuthFail-1-i))
		}
	}
	cust.do("locked", chromedp.WaitVisible(tid("gate-locked")))
	cust.contains(tid("gate-locked"), "locked until about")

	agent.until("the indicator says locked", `document.querySelector('[data-testid="indicator"]').textContent.includes("Locked") ||
		document.querySelector('[data-testid="indicator"]').getAttribute("aria-label")?.includes("ocked")`)
	agent.menu("unlock")
	cust.do("the customer tries again", chromedp.Click(tid("gate-retry")), chromedp.WaitVisible(tid("pin-input")),
		chromedp.SendKeys(tid("pin-input"), "246813"), chromedp.Click(tid("gate-submit")), chromedp.WaitVisible(tid("customer-chat-input")))
	agent.indicator("online_incomplete")
}

// TestSignOutEverywhereAndDisable: "Sign out everywhere" ends the agent's
// sign-in in every browser at once; an admin who disables an agent ends
// theirs, and the agent's sign-in page says the account is disabled.
func TestSignOutEverywhereAndDisable(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	base := c.Nodes[0].Server.URL
	one, two := agentTab(t, "alex at work"), agentTab(t, "alex at home")
	one.login(base, "alex@cohub.test")
	two.login(base, "alex@cohub.test")
	one.do("sign out everywhere", chromedp.Click(tid("account-menu")), chromedp.WaitVisible(tid("sign-out-all")),
		chromedp.Click(tid("sign-out-all")), chromedp.WaitVisible(tid("login-email")))
	two.do("the other browser's sign-in ended at once", chromedp.WaitVisible(tid("login-expired")))

	blake, ada := agentTab(t, "blake"), agentTab(t, "ada")
	blake.login(base, "blake@cohub.test")
	ada.login(base, "ada@cohub.test")
	ada.do("blake's account", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("admin-agents")),
		chromedp.Click(tid("admin-agents")), chromedp.WaitVisible(tid("agent-row", `[data-email="blake@cohub.test"]`)),
		chromedp.Click(tid("agent-row", `[data-email="blake@cohub.test"] button`)),
		chromedp.WaitVisible(tid("agent-disabled")), chromedp.Click(tid("agent-disabled")), chromedp.Click(tid("agent-save")),
		chromedp.WaitNotPresent(tid("agent-disabled")))
	ada.contains(tid("agent-row", `[data-email="blake@cohub.test"]`), "Disabled")
	blake.do("blake's sign-in ended at once", chromedp.WaitVisible(tid("login-expired")))
	blake.do("blake cannot sign in", chromedp.SendKeys(tid("login-password"), password), chromedp.Click(tid("login-submit")),
		chromedp.WaitVisible(tid("login-error")))
	blake.contains(tid("login-error"), "disabled")
}

// TestWordsForANamelessCustomer: a customer known only by an email reads
// as "the customer" inside sentences, and a planned session's task panel
// says nothing reaches them before the invitation.
func TestWordsForANamelessCustomer(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	id, _ := c.Session(rooms.CreateRequest{Mode: "preplan", Customer: rooms.Customer{Email: "nameless@example.com"}})
	agent := agentTab(t, "agent")
	agent.login(c.Nodes[0].Server.URL, "alex@cohub.test")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("task-title")))
	if got := agent.attr(tid("task-title"), "placeholder"); got != "What should the customer do?" {
		t.Fatalf("the task title says %q", got)
	}
	agent.contains(tid("task-list-empty"), "Tasks you assign wait for the invitation: nothing reaches the customer before.")
	// A sign task without its document is flagged before the invitation
	// goes, on the card and above the room.
	_, err := c.Service().Sessions.AddTask(context.Background(), c.Alex, id, rooms.TaskRequest{Kind: "sign", Title: "Sign the offer"})
	c.Must(err)
	agent.contains(tid("task-no-document"), "No document yet")
	agent.contains(tid("empty-sign-warning"), "“Sign the offer” has no document yet.")
	agent.contains(tid("empty-sign-warning"), "before you invite the customer")
	agent.readable("a planned session with an empty sign task")
}

// TestFormFieldEditor: a form field's key follows its label until the
// admin types a key of their own, and switching the template's kind and
// back keeps the fields typed so far.
func TestFormFieldEditor(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	admin := agentTab(t, "admin")
	admin.login(c.Nodes[0].Server.URL, "ada@cohub.test")
	admin.do("open the team", chromedp.Navigate(c.Nodes[0].Server.URL+"/#/admin/teams/"+c.Team.ID), chromedp.WaitVisible(tid("template-add")))
	kind := chromedp.CSS(fmt.Sprintf("#tt-kind-%d", len(c.Team.Settings.TaskTemplates)))
	admin.do("add a template", chromedp.Click(tid("template-add")), chromedp.WaitVisible(kind))
	admin.choose(kind, "form")
	admin.js(`([...document.querySelectorAll("button")].find((b) => b.textContent.includes("Add a field")).click(), "ok")`)
	admin.do("the field shows", chromedp.WaitVisible(tid("field-label")))
	admin.fill(tid("field-label"), "Date of birth")
	if got := admin.js(`document.querySelector('[data-testid="field-key"]').value`); got != "date_of_birth" {
		t.Fatalf("the key after the label: %q", got)
	}
	admin.fill(tid("field-key"), "dob")
	admin.fill(tid("field-label"), "Born on")
	if got := admin.js(`document.querySelector('[data-testid="field-key"]').value`); got != "dob" {
		t.Fatalf("a key of one's own changed with the label: %q", got)
	}
	admin.choose(kind, "sign")
	admin.do("the form's fields go", chromedp.WaitNotPresent(tid("field-label")))
	admin.choose(kind, "form")
	admin.do("and come back", chromedp.WaitVisible(tid("field-label")))
	if got := admin.js(`document.querySelector('[data-testid="field-label"]').value`); got != "Born on" {
		t.Fatalf("after switching the kind and back the field reads %q", got)
	}
	// A key the server refuses is said under the key, tied to it.
	admin.fill(tid("field-key"), "2 bad")
	admin.do("save", chromedp.Click(tid("team-save")), chromedp.WaitVisible(tid("field-part-error")))
	under := `(() => { const i = document.querySelector('[data-testid="field-key"]'), e = document.querySelector('[data-testid="field-part-error"]');
		const a = i.getBoundingClientRect(), b = e.getBoundingClientRect();
		return b.top >= a.bottom && Math.abs(b.left - a.left) < 4 && i.getAttribute("aria-describedby") === e.id && i.getAttribute("aria-invalid") === "true"; })()`
	admin.until("the key's error is under the key", under)
}
