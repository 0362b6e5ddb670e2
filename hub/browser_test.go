package hub

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
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
func (c *cluster) teamWith(auth string, consent string, templates ...rooms.TaskTemplate) {
	c.t.Helper()
	c.team.Settings.CustomerAuthentication = auth
	c.team.Settings.Consent = rooms.ConsentSetting{Required: consent != "", Text: consent}
	c.team.Settings.TaskTemplates = templates
	_, err := c.svc().UpdateTeam(context.Background(), c.team)
	c.must(err)
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
	c := newCluster(t, "redis", 2, fast())
	c.teamWith("pin", "I agree that Sales may see the documents I share here.",
		rooms.TaskTemplate{Kind: "consent", Title: "Agree to the terms"}, rooms.TaskTemplate{Kind: "form", Title: "Fill in your details"})
	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(c.nodes[0].srv.URL, "alex@cohub.test")

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
	agent.fill(tid("customer-email"), "dana@example.com")
	agent.do("start the session", chromedp.Click(tid("session-submit")), chromedp.WaitNotPresent(tid("session-dialog")))
	agent.indicator("never_joined")
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

	cust.do("customer opens the link and gives the PIN", chromedp.Navigate(c.nodes[1].srv.URL+linkPath(t, url)),
		chromedp.WaitVisible(tid("pin-input")), chromedp.SendKeys(tid("pin-input"), "246813"), chromedp.Click(tid("gate-submit")),
		chromedp.WaitVisible(tid("consent-agree")))
	cust.contains(tid("consent-shown"), "Sales may see the documents")
	cust.do("customer agrees", chromedp.Click(tid("consent-agree")), chromedp.WaitVisible(tid("customer-chat-input")))
	cust.contains(chromedp.CSS(".c-agent"), "alex")
	agent.indicator("online_incomplete")
	agent.do("the hover card shows the gates", chromedp.Focus(tid("indicator")), chromedp.WaitVisible(chromedp.CSS(".ind-card")))
	if card := agent.text(chromedp.CSS(".ind-card")); !strings.Contains(card, "Verified (PIN)") || !strings.Contains(card, "Accepted") || strings.Contains(card, "Last seen") {
		t.Fatalf("hover card: %q", card)
	}
	cust.contains(tid("agent-here"), "Here now")

	cust.do("customer types and writes", chromedp.SendKeys(tid("customer-chat-input"), "Hello, I am here"))
	agent.contains(tid("typing"), "Dana is typing")
	cust.do("customer sends", chromedp.Click(tid("customer-chat-send")))
	agent.contains(tid("chat-log"), "Hello, I am here")
	agent.do("agent answers", chromedp.SendKeys(tid("chat-input"), "Welcome Dana! One thing to agree to."), chromedp.Click(tid("chat-send")))
	cust.contains(tid("customer-chat-peek"), "Welcome Dana!")
	agent.contains(tid("chat-log", " .msg-out"), "Delivered")

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

	cust.do("customer comes back", chromedp.Navigate(c.nodes[1].srv.URL+linkPath(t, url)), chromedp.WaitVisible(tid("customer-chat-input")))
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

	agent.menu("renew-session")
	agent.do("the room is active again", chromedp.WaitNotPresent(tid("ended-banner")), chromedp.WaitVisible(tid("task-form")))
	cust.do("customer is back", chromedp.WaitVisible(tid("customer-chat-input")), chromedp.WaitNotPresent(tid("ended-notice")))
}
