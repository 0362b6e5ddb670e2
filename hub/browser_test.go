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
	id, link := c.session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"}, PIN: "2468"})

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
		chromedp.SendKeys(css("#answer"), "2468"),
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
