package hub

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/internal/browsertest"
	"github.com/cohub/cohub/rooms"
)

// TestRoomInBrowsers: the agent's console on node 1 and the customer's
// page on node 2, each in its own Chromium. The customer passes the PIN
// and consent gates; both chat; the agent assigns a task, the customer
// completes it; the agent ends the session and the customer keeps a
// read-only page. The indicator follows along in the console.
func TestRoomInBrowsers(t *testing.T) {
	c := newCluster(t, "redis", 2, fast())
	c.gate()
	id, link := c.session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"}, PIN: "246813"})

	agent, cust := browsertest.Start(t), browsertest.Start(t)
	type css = chromedp.CSS
	step := func(b context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step(agent, "agent opens the room",
		chromedp.Navigate(c.nodes[0].srv.URL+"/"),
		chromedp.SendKeys(css("#email"), "alex@cohub.test"),
		chromedp.SendKeys(css("#password"), "correct-horse-battery"),
		chromedp.Click(css("#login-form button")),
		chromedp.Click(css(`#history tr[data-id="`+id+`"]`)),
		chromedp.WaitVisible(css("#room-dot.never_joined")))

	step(cust, "customer passes the gates",
		chromedp.Navigate(c.nodes[1].srv.URL+"/c/"+link),
		chromedp.WaitVisible(css("#verify")),
		chromedp.SendKeys(css("#answer"), "246813"),
		chromedp.Click(css("#verify-form button")),
		chromedp.WaitVisible(css("#consent")),
		chromedp.Click(css("#accept")),
		chromedp.WaitVisible(css("#room")))
	step(agent, "agent sees the customer online",
		chromedp.WaitVisible(css("#room-dot.online_incomplete")))
	if hover := browsertest.Text(t, agent, "#room-status"); !strings.Contains(hover, "Authentication: verified") || !strings.Contains(hover, "Consent: accepted") {
		t.Fatalf("indicator hover: %q", hover)
	}

	step(cust, "customer writes",
		chromedp.SendKeys(css("#text"), "Hello, I am here"),
		chromedp.Click(css("#chat-form button")))
	step(agent, "agent reads and answers",
		chromedp.WaitVisible(css("#messages li:last-child")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#messages").textContent.includes("Hello, I am here")`),
		chromedp.SendKeys(css("#text"), "Welcome, Casey"),
		chromedp.Click(css("#chat-form button")),
		chromedp.SendKeys(css("#task-title"), "Sign the contract"),
		chromedp.Click(css("#task-form button")))
	step(cust, "customer reads, sees the task and completes it",
		chromedp.Poll[chromedp.Void](`document.querySelector("#messages").textContent.includes("Welcome, Casey")`),
		chromedp.Click(css("#tasks button")),
		chromedp.WaitVisible(css("#tasks .pill")))
	step(agent, "agent sees the task done",
		chromedp.WaitVisible(css("#room-dot.online_completed")),
		chromedp.Click(css("#end")))
	step(cust, "customer keeps a read-only page",
		chromedp.Poll[chromedp.Void](`document.querySelector("#messages").textContent.includes("The session has ended.")`),
		chromedp.WaitNotVisible(css("#chat-form")))
}

// A customer's pass belongs to the browser that earned it: two gated
// sessions live side by side in one browser, and the same link opened in
// another browser is offered the gates again, not the room.
func TestCustomerPassesArePerBrowser(t *testing.T) {
	c := newCluster(t, "redis", 1, fast())
	c.gate()
	one, linkOne := c.session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"}, PIN: "111111"})
	two, linkTwo := c.session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"}, PIN: "222222"})
	base := c.nodes[0].srv.URL + "/c/"
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
	agent := c.agent(c.nodes[0], one)
	if err := chromedp.Do(tabOne,
		chromedp.Reload(),
		chromedp.WaitVisible(tid("customer-chat-input")),
		chromedp.SendKeys(tid("customer-chat-input"), "still here"),
		chromedp.Click(tid("customer-chat-send"))); err != nil {
		t.Fatalf("first tab after the second session: %v", err)
	}
	agent.await("the first tab's message", func(f frame) bool {
		return f.Op == "event" && f.Topic == roomTopic(one) && f.data()["text"] == "still here"
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
	cfg := fast()
	cfg.ReplayPage = 40
	c := newClusterWith(t, "memory", 1, cfg, unlimited)
	id, link := c.session(rooms.CreateRequest{})
	c.fill(id, 150, "line-")
	cust := browsertest.Start(t)
	if err := chromedp.Do(cust, chromedp.Navigate(c.nodes[0].srv.URL+"/c/"+link),
		chromedp.Poll[chromedp.Void](`document.body.textContent.includes("line-149")`)); err != nil {
		t.Fatalf("customer page: %v", err)
	}
	seen, err := chromedp.Run(cust, chromedp.Evaluate[int](
		`new Set([...document.body.textContent.matchAll(/line-(\d+)/g)].map(m => m[1])).size`))
	if err != nil {
		t.Fatal(err)
	}
	if seen != 150 {
		t.Fatalf("%d of 150 messages on the page", seen)
	}
}
