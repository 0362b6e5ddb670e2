package static_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/webhooktest"
)

// TestWebhooksInBrowser: an admin registers an endpoint for
// session.created on the webhooks screen and sees its secret once; a
// session starts; the receiver refuses the first attempt and takes the
// second, signed with that secret and with the same webhook-id; the
// delivery log says delivered after two attempts; Retry sends it again;
// the endpoint is disabled and enabled.
func TestWebhooksInBrowser(t *testing.T) {
	c := livetest.NewClusterWith(t, "memory", 1, livetest.Fast(), livetest.Options{Webhooks: func(o *webhooks.Options) {
		o.Schedule, o.Poll = []time.Duration{200 * time.Millisecond}, 50*time.Millisecond
	}})
	rcv := webhooktest.NewReceiver(t)
	rcv.Answer(func(n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	ada := agentTab(t, "ada")
	ada.login(c.Nodes[0].Server.URL, "ada@cohub.test")
	ada.do("the webhooks", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("admin-webhooks")),
		chromedp.Click(tid("admin-webhooks")), chromedp.WaitVisible(tid("hook-form")), chromedp.WaitVisible(tid("hook-none")))
	ada.fill(tid("hook-url"), "ftp://crm.example.com/")
	ada.do("a URL that is not https", chromedp.Click(tid("hook-add")), chromedp.WaitVisible(chromedp.CSS("#hook-url-err")))
	ada.fill(tid("hook-url"), rcv.URL)
	ada.fill(tid("hook-description"), "The CRM")
	ada.do("pick session.created", chromedp.Click(tid("hook-all")), chromedp.WaitVisible(tid("hook-events")),
		chromedp.Click(tid("hook-event-session.created")))
	ada.readable("the events picker")
	ada.do("add", chromedp.Click(tid("hook-add")), chromedp.WaitVisible(tid("hook-secret")))
	secret := ada.js(`document.querySelector("[data-testid=hook-secret]").value`)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret shown: %q", secret)
	}
	ada.readable("the secret shown once")
	ada.do("done", chromedp.Click(tid("hook-done")), chromedp.WaitNotPresent(tid("hook-secret-dialog")))
	ada.contains(tid("hook-row"), "session.created")
	if strings.Contains(ada.page(), secret) {
		t.Fatal("the secret is still on the page after Done")
	}

	id, _ := c.Session(rooms.CreateRequest{})
	refused := rcv.Next(t, stepLimit)
	taken := rcv.Next(t, stepLimit)
	if refused.Answer != http.StatusServiceUnavailable || taken.Answer != http.StatusNoContent || taken.ID != refused.ID {
		t.Fatalf("attempts: %s answered %d, then %s answered %d", refused.ID, refused.Answer, taken.ID, taken.Answer)
	}
	if err := webhooktest.Verify(secret, taken, time.Now(), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if typ, data, _ := taken.Event(t); typ != webhooks.SessionCreated || data["session_id"] != id {
		t.Fatalf("delivered %s", taken.Body)
	}

	ada.do("the delivery log", chromedp.Click(tid("hook-log")), chromedp.WaitVisible(tid("hook-deliveries")))
	ada.until("delivered shows", `(document.querySelector("[data-testid=hook-refresh]").click(),
		!!document.querySelector("[data-testid=hook-delivery][data-status=delivered]"))`)
	ada.contains(tid("hook-delivery-attempts"), "2")
	ada.contains(tid("hook-delivery-answer"), "204")
	if got := ada.attr(tid("hook-delivery"), "data-webhook-id"); got != taken.ID {
		t.Fatalf("the log's webhook-id %q, the receiver's %q", got, taken.ID)
	}
	ada.readable("the delivery log")
	ada.do("retry", chromedp.Click(tid("hook-retry")))
	if again := rcv.Next(t, stepLimit); again.ID != taken.ID || again.Answer != http.StatusNoContent {
		t.Fatalf("the retry sent %s", again.ID)
	}
	ada.do("disable", chromedp.Click(tid("hook-toggle")))
	ada.contains(tid("hook-state"), "Disabled")
	ada.do("enable", chromedp.Click(tid("hook-toggle")))
	ada.contains(tid("hook-state"), "Enabled")
}
