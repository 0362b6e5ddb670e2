package static_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
)

// TestReadReceiptsInBrowser: read receipts between two browsers on two
// nodes. The history row counts the customer's unread messages, and the
// count clears once the agent opens the room (the messages are on
// screen). The customer's page, opened with the conversation closed,
// marks nothing; once the customer scrolls to the agent's message the
// console shows "Seen" under it. The agent, looking at the room, reads
// the customer's reply, and the customer's page shows "Seen" under it,
// at once again after a reload.
func TestReadReceiptsInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "redis", 2, livetest.Fast())
	ctx := context.Background()
	id, link := c.Session(rooms.CreateRequest{})
	for _, text := range []string{"Hi, is anyone there?", "I have a question"} {
		_, err := c.Service().Sessions.PostMessage(ctx, id, rooms.Message{From: rooms.Actor{Role: "customer"}, Text: text})
		c.Must(err)
	}

	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(c.Nodes[0].Server.URL, "alex@cohub.test")
	row := `[data-testid="history-list"] [data-id="` + id + `"]`
	agent.contains(chromedp.CSS(row+` [data-testid="unread-count"]`), "2 unread messages")
	agent.do("open the room", chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(tid("indicator")))
	agent.until("the unread count clears", `!document.querySelector('`+row+` [data-testid="unread-count"]')`)
	h, err := c.Service().Sessions.History(ctx, c.Alex, rooms.HistoryQuery{})
	c.Must(err)
	for _, s := range h.Sessions {
		if s.ID == id && s.Unread != 0 {
			t.Fatalf("the server still counts %d unread after the agent read them", s.Unread)
		}
	}

	agent.fill(tid("chat-input"), "Hello from Alex: how can I help?")
	agent.do("send", chromedp.Click(tid("chat-send")))
	agentMsg := `[...document.querySelectorAll('[data-testid="chat-log"] .msg-out')].find(li => li.textContent.includes("Hello from Alex"))`
	agent.until("the message is logged", `!!`+agentMsg+` && !!`+agentMsg+`.dataset.seq`)

	cust.do("the customer opens the page", chromedp.Navigate(c.Nodes[1].Server.URL+"/c/"+link),
		chromedp.WaitVisible(tid("customer-chat-input")))
	agent.indicator("online_incomplete")
	if n := agent.js(`String(document.querySelectorAll('[data-seen="true"]').length)`); n != "0" {
		t.Fatalf("'Seen' shows before the customer opened the conversation (%s)", n)
	}
	cust.do("open the conversation", chromedp.Click(tid("chat-toggle")), chromedp.WaitVisible(tid("customer-chat-log")))
	cust.js(`(() => { const li = [...document.querySelectorAll('[data-testid="customer-chat-log"] .msg-in')].pop();
		li.scrollIntoView({block: "end"}); return "ok"; })()`)
	agent.until("'Seen' under the agent's message", `(() => { const s = document.querySelector('[data-seen="true"]');
		return !!s && s.textContent === "Seen" && s.closest("li").textContent.includes("Hello from Alex"); })()`)
	if got := agent.attr(tid("chat-log"), "aria-relevant"); got != "additions" {
		t.Fatalf("the console's log announces %q: 'Seen' moving would be read out", got)
	}

	cust.fill(tid("customer-chat-input"), "Thanks!")
	cust.do("reply", chromedp.Click(tid("customer-chat-send")))
	seenThanks := `(() => { const s = document.querySelector('[data-testid="msg-seen"]');
		return !!s && s.textContent === "Seen" && s.closest("li").textContent.includes("Thanks!"); })()`
	cust.until("'Seen' under the customer's reply", seenThanks)
	if got := cust.attr(tid("customer-chat-log"), "aria-relevant"); got != "additions" {
		t.Fatalf("the customer's log announces %q", got)
	}
	cust.do("reload", chromedp.Reload(), chromedp.WaitVisible(tid("chat-toggle")), chromedp.Click(tid("chat-toggle")),
		chromedp.WaitVisible(tid("customer-chat-log")))
	cust.until("'Seen' again after the reload", seenThanks)
}
