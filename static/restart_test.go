package static_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
)

// TestRestartOnDisk restarts the server mid-session on the default
// backend (embedded, on disk): both pages reconnect by themselves and
// the room goes on (the agent still signed in, the customer's link still
// good, what was said still there); neither says the sign-in ended or
// the link is broken, not even after a reload.
func TestRestartOnDisk(t *testing.T) {
	c := livetest.NewCluster(t, "embedded", 1, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Rita Restart", Email: "rita@example.com"}})
	agent, cust := meet(c, t, id, link)
	cust.do("open the conversation", chromedp.Click(tid("chat-toggle")))
	agent.fill(tid("chat-input"), "Before the restart")
	agent.do("send", chromedp.Click(tid("chat-send")))
	cust.contains(tid("customer-chat-log"), "Before the restart")

	c.Restart()
	// The customer writes as soon as the page lets them: the message
	// waits for the connection and goes once it is back.
	cust.do("the customer writes across the restart", chromedp.SendKeys(tid("customer-chat-input"), "After the restart"),
		chromedp.Click(tid("customer-chat-send")))
	agent.contains(tid("chat-log"), "After the restart")
	agent.indicator("online_incomplete")
	cust.do("the customer's page is back", chromedp.WaitNotPresent(tid("reconnecting")))
	agent.fill(tid("chat-input"), "Still with you")
	agent.do("the agent answers", chromedp.Click(tid("chat-send")))
	cust.contains(tid("customer-chat-log"), "Still with you")
	noWrongPages(t, agent, cust)

	// A reload reads everything again from the restarted server.
	agent.do("reload the console", chromedp.Reload(), chromedp.WaitVisible(tid("start-session")),
		chromedp.WaitVisible(chromedp.CSS(`section.room[data-session="`+id+`"]`)))
	agent.contains(tid("chat-log"), "Before the restart")
	agent.contains(tid("chat-log"), "After the restart")
	cust.do("reload the customer's page", chromedp.Reload(), chromedp.WaitVisible(tid("customer-chat-input")))
	cust.do("open the conversation", chromedp.Click(tid("chat-toggle")))
	cust.contains(tid("customer-chat-log"), "Before the restart")
	noWrongPages(t, agent, cust)
}

// noWrongPages: neither page blames the sign-in or the link.
func noWrongPages(t *testing.T, agent, cust tab) {
	t.Helper()
	if got := agent.js(`String(!!document.querySelector('[data-testid="login-expired"]'))`); got != "false" {
		t.Fatalf("the console says the sign-in ended:\n%s", agent.page())
	}
	if got := cust.js(`String(!!document.querySelector('[data-testid="invalid"], [data-testid="expired"], [data-testid="replaced"]'))`); got != "false" {
		t.Fatalf("the customer's page blames the link:\n%s", cust.page())
	}
}
