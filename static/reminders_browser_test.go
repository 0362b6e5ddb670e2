package static_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
)

// remindersEvery5m sets the org's reminders: 5 minutes after the
// invitation, then every 5 minutes, three at most, inside window.
func remindersEvery5m(c *livetest.Cluster, window rooms.SendWindow) {
	c.T.Helper()
	ctx := context.Background()
	set, err := c.Service().Store().Settings(ctx)
	c.Must(err)
	set.Followups.Reminders = rooms.ReminderSettings{Enabled: true, FirstAfter: rooms.Duration(5 * time.Minute),
		Every: rooms.Duration(5 * time.Minute), Max: 3}
	set.Followups.Window = window
	_, err = c.Service().Accounts.PutSettings(ctx, set)
	c.Must(err)
}

// remindersTo counts the reminders the outbox holds for a contact.
func remindersTo(c *livetest.Cluster, to string) int {
	c.T.Helper()
	msgs, err := c.Outbox.List(context.Background(), 1000)
	c.Must(err)
	n := 0
	for _, m := range msgs {
		if m.To == to && strings.HasPrefix(m.Subject, "Reminder") {
			n++
		}
	}
	return n
}

// waitReminders waits for the outbox to hold n reminders for a contact.
func waitReminders(c *livetest.Cluster, to string, n int) {
	c.T.Helper()
	deadline := time.Now().Add(stepLimit)
	for remindersTo(c, to) < n {
		if time.Now().After(deadline) {
			c.T.Fatalf("%d reminders to %s, want %d", remindersTo(c, to), to, n)
		}
		time.Sleep(20 * time.Millisecond) // polls the outbox, an observable condition
	}
}

// TestRemindersInBrowser: a customer who never opens their link gets
// the first reminder after the delay, and the agent sees it in the
// room's log and on its card; the customer's "stop reminders" link asks
// first, then stops them, which the agent sees too; a reminder due
// outside the send window waits for it.
func TestRemindersInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	remindersEvery5m(c, rooms.SendWindow{Days: rooms.Weekdays, From: "00:00", To: "24:00", TimeZone: "UTC"})
	id, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"},
		Tasks: []rooms.TaskTemplate{{Kind: "custom", Title: "Send your payslip"}}})
	base := c.Nodes[0].Server.URL
	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")
	agent.do("open the room", chromedp.Navigate(base+"/#/s/"+id), chromedp.WaitVisible(tid("reminders-status")))
	agent.contains(tid("reminders-status"), "Reminders: 0 of 3 sent · next")
	agent.contains(tid("link-expiry"), "Link expires")

	c.Clock.Advance(5*time.Minute + time.Second)
	waitReminders(c, "casey@example.com", 1)
	agent.contains(tid("chat-log"), "Reminder sent by email")
	agent.contains(tid("reminders-status"), "Reminders: 1 of 3 sent")
	agent.do("the indicator's card tells the reminders", chromedp.Focus(tid("indicator")), chromedp.WaitVisible(chromedp.CSS(".ind-card")))
	agent.contains(chromedp.CSS(".ind-card"), "1 of 3 sent")
	agent.contains(chromedp.CSS(".ind-card"), "expires")
	agent.readable("the room with a reminder sent")

	body := sentTo(c, "casey@example.com")
	i := strings.Index(body, "/stop/")
	if i < 0 {
		t.Fatalf("the reminder has no stop link: %q", body)
	}
	stop := strings.Fields(body[i:])[0]
	stop = strings.TrimRight(stop, ")")
	cust.do("open the stop link", chromedp.Navigate(base+stop), chromedp.WaitVisible(tid("stop-confirm")))
	cust.readable("the stop page")
	cust.do("confirm", chromedp.Click(tid("stop-confirm")), chromedp.WaitNotPresent(tid("stop-confirm")))
	cust.contains(tid("stop-text"), "no more reminders")
	agent.contains(tid("chat-log"), "Casey stopped reminders")
	agent.contains(tid("reminders-status"), "Stopped by the customer")
	c.Clock.Advance(10 * time.Minute)
	if next, err := c.Service().Followups.Wake(context.Background(), id); err != nil || !next.IsZero() {
		t.Fatalf("after the opt-out the session wakes at %v (%v)", next, err)
	}
	if n := remindersTo(c, "casey@example.com"); n != 1 {
		t.Fatalf("%d reminders after the opt-out", n)
	}

	// Only 09:00–10:00 UTC two days from now: a reminder due in five
	// minutes waits for it.
	now := c.Clock.Now().UTC()
	opens := time.Date(now.Year(), now.Month(), now.Day()+2, 9, 0, 0, 0, time.UTC)
	remindersEvery5m(c, rooms.SendWindow{Days: []string{rooms.Weekdays[opens.Weekday()]}, From: "09:00", To: "10:00", TimeZone: "UTC"})
	later, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Lee", Email: "lee@example.com"},
		Tasks: []rooms.TaskTemplate{{Kind: "custom", Title: "Send your payslip"}}})
	agent.do("open the second room", chromedp.Navigate(base+"/#/s/"+later), chromedp.WaitVisible(tid("reminders-status")))
	agent.contains(tid("reminders-status"), "0 of 3 sent · next")
	c.Clock.Advance(6 * time.Minute)
	if next, err := c.Service().Followups.Wake(context.Background(), later); err != nil || !next.Equal(opens) {
		t.Fatalf("the reminder outside the window is due at %v (%v), want %v", next, err, opens)
	}
	if n := remindersTo(c, "lee@example.com"); n != 0 {
		t.Fatalf("%d reminders outside the window", n)
	}
	c.Clock.Advance(opens.Sub(c.Clock.Now()) + time.Second)
	waitReminders(c, "lee@example.com", 1)
	agent.contains(tid("chat-log"), "Reminder sent by email")
}
