package api

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

// TestCustomerPageInBrowser: the link opens the customer's page with
// their tasks; once expired, the page offers a new link, which goes to
// the contact on file and opens the page again.
func TestCustomerPageInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, "memory")
	s := e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
		"customer": map[string]string{"name": "Cara", "email": "cara@example.com"},
		"tasks":    []map[string]string{{"kind": "sign", "title": "Sign the offer"}, {"kind": "form", "title": "Your details"}},
	}).want(201).session()
	tok := e.linkSentTo("cara@example.com")

	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+tok), chromedp.WaitVisible(chromedp.CSS("#session"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#title"); got != "Welcome, Cara" {
		t.Fatalf("title = %q", got)
	}
	if got := text(t, ctx, "#tasks"); !strings.Contains(got, "Sign the offer") || !strings.Contains(got, "Your details") {
		t.Fatalf("tasks = %q", got)
	}

	e.clock.Advance(73 * time.Hour)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+tok), chromedp.WaitVisible(chromedp.CSS("#expired")),
		chromedp.Click(chromedp.CSS("#newlink")), chromedp.WaitVisible(chromedp.CSS("#newlink-result.ok"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#newlink-result"); !strings.Contains(got, "c***@example.com") {
		t.Fatalf("new-link result = %q", got)
	}
	fresh := e.linkSentTo("cara@example.com")
	if fresh == tok {
		t.Fatal("no new link was sent")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+fresh), chromedp.WaitVisible(chromedp.CSS("#session"))); err != nil {
		t.Fatal(err)
	}
	if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); len(got.Invitations) != 2 {
		t.Fatalf("the new link is not recorded: %+v", got.Invitations)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/c/"+tok[:len(tok)-3]+"abc"),
		chromedp.WaitVisible(chromedp.CSS("#status .error"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#status"); !strings.Contains(got, "not valid") {
		t.Fatalf("forged link shows %q", got)
	}
}

// TestConsoleInBrowser: an agent signs in, starts a session and sees it
// in their history; the cookie session passes the Origin check.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, "memory")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.SendKeys(chromedp.CSS("#email"), "alex@cohub.test"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-form button")),
		chromedp.WaitVisible(chromedp.CSS("#console")),
		chromedp.SendKeys(chromedp.CSS("#c-name"), "Dana"),
		chromedp.SendKeys(chromedp.CSS("#c-contact"), "dana@example.com"),
		chromedp.Click(chromedp.CSS("#start-form button")),
		chromedp.WaitVisible(chromedp.CSS("#start-result.ok")),
		chromedp.WaitVisible(chromedp.CSS("#history tr")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#start-result"); got != "Invitation sent to dana@example.com" {
		t.Fatalf("start result = %q", got)
	}
	if got := text(t, ctx, "#history"); !strings.Contains(got, "Dana · dana@example.com") || !strings.Contains(got, "never joined") {
		t.Fatalf("history = %q", got)
	}
	if got := text(t, ctx, "#hello"); got != "Hello, Alex" {
		t.Fatalf("greeting = %q", got)
	}
}
