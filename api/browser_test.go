package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/internal/browsertest"
)

func browser(t *testing.T) context.Context { return browsertest.Start(t) }

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return browsertest.Text(t, ctx, sel)
}

// tid selects by data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// TestCustomerPageInBrowser: the link opens the customer's page with
// their tasks; once expired, the page offers a new link, which goes to
// the contact on file and opens the page again; a forged link says so in
// plain words.
func TestCustomerPageInBrowser(t *testing.T) {
	ctx := browsertest.StartWith(t, browsertest.Options{Width: 390, Height: 844, Mobile: true})
	e := newEnv(t, "memory")
	s := e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
		"customer": map[string]string{"name": "Cara", "email": "cara@example.com"},
		"tasks":    []map[string]string{{"kind": "sign", "title": "Sign the offer"}, {"kind": "form", "title": "Your details"}},
	}).want(201).session()
	tok := e.linkSentTo("cara@example.com")

	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+tok), chromedp.WaitVisible(tid("customer-tasks"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, ".c-welcome"); got != "Welcome, Cara" {
		t.Fatalf("title = %q", got)
	}
	if got := text(t, ctx, `[data-testid="customer-tasks"]`); !strings.Contains(got, "Sign the offer") || !strings.Contains(got, "Your details") {
		t.Fatalf("tasks = %q", got)
	}
	if got := text(t, ctx, `[data-testid="customer-progress"]`); got != "0 of 2 done" {
		t.Fatalf("progress = %q", got)
	}

	e.clock.Advance(73 * time.Hour)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+tok), chromedp.WaitVisible(tid("expired")),
		chromedp.Click(tid("new-link")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-link-result"].notice-ok`))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `[data-testid="new-link-result"]`); !strings.Contains(got, "c***@example.com") {
		t.Fatalf("new-link result = %q", got)
	}
	fresh := e.linkSentTo("cara@example.com")
	if fresh == tok {
		t.Fatal("no new link was sent")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+fresh), chromedp.WaitVisible(tid("customer-tasks"))); err != nil {
		t.Fatal(err)
	}
	if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); len(got.Invitations) != 2 {
		t.Fatalf("the new link is not recorded: %+v", got.Invitations)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+tok[:len(tok)-3]+"abc"), chromedp.WaitVisible(tid("invalid"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `[data-testid="invalid"]`); !strings.Contains(got, "does not work") {
		t.Fatalf("forged link shows %q", got)
	}
}

// TestConsoleInBrowser: an agent signs in (a wrong password is answered
// in plain words), starts a session, and its room opens with the
// invitation's outcome; the session is in their history, never joined.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, "memory")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.SendKeys(tid("login-email"), "alex@cohub.test"),
		chromedp.SendKeys(tid("login-password"), "not-the-password"),
		chromedp.Click(tid("login-submit")),
		chromedp.WaitVisible(tid("login-error")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `[data-testid="login-error"]`); !strings.Contains(got, "do not match") {
		t.Fatalf("wrong password shows %q", got)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.SendKeys(tid("login-email"), "alex@cohub.test"),
		chromedp.SendKeys(tid("login-password"), testPassword),
		chromedp.Click(tid("login-submit")),
		chromedp.WaitVisible(tid("start-session")),
		chromedp.Click(tid("start-session")),
		chromedp.SendKeys(tid("customer-name"), "Dana"),
		chromedp.SendKeys(tid("customer-email"), "dana@example.com"),
		chromedp.Click(tid("session-submit")),
		chromedp.WaitVisible(tid("invitation-outcome")),
		chromedp.WaitVisible(tid("history-item")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `[data-testid="invitation-outcome"]`); got != "Invitation sent by email to dana@example.com." {
		t.Fatalf("start result = %q", got)
	}
	if got := text(t, ctx, `[data-testid="history-item"]`); !strings.Contains(got, "Dana") || !strings.Contains(got, "dana@example.com") {
		t.Fatalf("history = %q", got)
	}
	if got := text(t, ctx, `[data-testid="indicator"]`); !strings.Contains(got, "Never joined") {
		t.Fatalf("indicator = %q", got)
	}
	if got := text(t, ctx, `[data-testid="me-name"]`); got != "Alex" {
		t.Fatalf("name in the header = %q", got)
	}
}
