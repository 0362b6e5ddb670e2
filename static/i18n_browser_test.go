package static_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/i18n"
	"github.com/cohub/cohub/rooms"
)

// brandLeft is where the header's brand starts, in CSS pixels from the
// page's left edge.
func (b tab) brandLeft() float64 {
	b.t.Helper()
	v, err := strconv.ParseFloat(b.js(`String(document.querySelector(".c-top .brand").getBoundingClientRect().left)`), 64)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// inLanguage waits until the page is in lang, its welcome in lang's words.
func (b tab) inLanguage(lang, welcome string) {
	b.t.Helper()
	b.until("the page is in "+lang, `document.documentElement.lang === "`+lang+`" && document.documentElement.dir === "`+i18n.Dir(lang)+
		`" && (document.querySelector(".c-welcome") || {}).textContent === "`+welcome+`"`)
}

// TestCustomerPageInHebrew: a session started in Hebrew opens right to
// left and mirrored (the header's brand sits on the right), readable by
// the contrast and accessible-name checks; the customer switches to
// English on the page, which changes the words and direction in place,
// and a reload keeps the choice; Spanish likewise.
func TestCustomerPageInHebrew(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{Language: "he", Customer: rooms.Customer{Name: "Noa Levi", Email: "noa@example.com"},
		Tasks: []rooms.TaskTemplate{{Kind: "custom", Title: "לאשר את הכתובת"}, {Kind: "upload", Title: "צילום תעודה"}}})
	cust := customerTab(t)
	cust.do("open the link", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link), chromedp.WaitVisible(tid("customer-tasks")))
	cust.inLanguage("he", i18n.T("he", "room.welcome_name", "name", "Noa"))
	cust.contains(tid("customer-progress"), i18n.T("he", "room.progress", "done", "0", "total", "2"))
	if got := cust.text(chromedp.CSS(`label[for="c-lang"]`)); got != i18n.T("he", "language.label") {
		t.Fatalf("the language switch is labelled %q", got)
	}
	rtlLeft := cust.brandLeft()
	if rtlLeft < 390/2 {
		t.Fatalf("in Hebrew the brand starts at x=%.0f: the header is not mirrored", rtlLeft)
	}
	cust.readable("the room in Hebrew")

	cust.choose(tid("language"), "en")
	cust.inLanguage("en", "Welcome, Noa")
	if ltrLeft := cust.brandLeft(); ltrLeft > 40 {
		t.Fatalf("in English the brand starts at x=%.0f, want the left edge", ltrLeft)
	}
	cust.contains(tid("customer-progress"), "0 of 2 done")
	cust.do("reload", chromedp.Reload(), chromedp.WaitVisible(tid("customer-tasks")))
	cust.inLanguage("en", "Welcome, Noa")

	cust.choose(tid("language"), "es")
	cust.inLanguage("es", i18n.T("es", "room.welcome_name", "name", "Noa"))
	cust.do("reload", chromedp.Reload(), chromedp.WaitVisible(tid("customer-tasks")))
	cust.inLanguage("es", i18n.T("es", "room.welcome_name", "name", "Noa"))
	if v := cust.js(`document.querySelector('[data-testid="language"]').value`); v != "es" {
		t.Fatalf("the switch shows %q after the reload", v)
	}
	s, err := c.Service().Sessions.Show(context.Background(), c.Alex, id)
	c.Must(err)
	if s.Language != "es" {
		t.Fatalf("the session keeps language %q, want the customer's es", s.Language)
	}

	// The gates in Hebrew: the PIN, then the consent.
	teamWith(c, "pin", "אני מסכים/ה לשתף את המסמכים שלי.")
	_, gated := c.Session(rooms.CreateRequest{Language: "he", PIN: "246813", Customer: rooms.Customer{Name: "Dan", Email: "dan@example.com"}})
	cust.do("open the gated link", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+gated), chromedp.WaitVisible(tid("pin-input")))
	cust.until("the PIN page is right to left", `document.documentElement.dir === "rtl"`)
	cust.contains(chromedp.CSS("#page-h"), i18n.T("he", "gate.auth_title"))
	cust.readable("the PIN page in Hebrew")
	cust.do("the PIN", chromedp.SendKeys(tid("pin-input"), "246813"), chromedp.Click(tid("gate-submit")), chromedp.WaitVisible(tid("consent-agree")))
	cust.contains(tid("consent-agree"), i18n.T("he", "consent.agree"))
	cust.readable("the consent page in Hebrew")

	// An expired link in Hebrew: the new link's address reads as written.
	c.Clock.Advance(73 * time.Hour)
	cust.do("the expired page", chromedp.Reload(), chromedp.WaitVisible(tid("new-link")))
	cust.contains(chromedp.CSS("#page-h"), i18n.T("he", "expired.title"))
	cust.readable("the expired page in Hebrew")
	cust.do("ask for a new link", chromedp.Click(tid("new-link")), chromedp.WaitVisible(tid("new-link-result", " bdi")))
	if got := cust.js(`document.querySelector('[data-testid="new-link-result"] bdi').textContent`); !strings.HasSuffix(got, "@example.com") {
		t.Fatalf("the address in the Hebrew sentence is %q", got)
	}
}

// TestAcceptLanguagePicksSpanish: a session without a language opens in
// the language the customer's browser asks for.
func TestAcceptLanguagePicksSpanish(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	_, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Lucía Gómez", Email: "lucia@example.com"}})
	cust := customerTab(t)
	_, err := chromedp.Run(cust.ctx, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}})
	})
	c.Must(err)
	cust.do("open the link", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link), chromedp.WaitVisible(tid("customer-chat-input")))
	cust.inLanguage("es", i18n.T("es", "room.welcome_name", "name", "Lucía"))
	cust.contains(chromedp.CSS(".c-sub"), i18n.T("es", "room.guide", "agent", "alex"))
	if got := cust.attr(tid("customer-chat-input"), "placeholder"); got != i18n.T("es", "chat.placeholder", "agent", "alex") {
		t.Fatalf("the message box's placeholder %q", got)
	}
	cust.readable("the room in Spanish")
}

// TestAgentStartsInFrench: the console's Start session offers the
// customer's language, each named in itself; a session started in
// French invites in French and opens the customer's page in French.
func TestAgentStartsInFrench(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	agent := agentTab(t, "agent")
	agent.login(c.Nodes[0].Server.URL, "alex@cohub.test")
	agent.do("open Start session", chromedp.Click(tid("start-session")), chromedp.WaitVisible(tid("customer-email")),
		chromedp.WaitReady(tid("session-language", ` option[value="fr"]`)))
	if got := agent.js(`document.querySelector('[data-testid="session-language"] option[value="fr"]').textContent`); got != "Français" {
		t.Fatalf("French is offered as %q", got)
	}
	agent.readable("the Start session form")
	agent.choose(tid("session-language"), "fr")
	agent.do("start in French", chromedp.SendKeys(tid("customer-name"), "Chloé Martin"),
		chromedp.SendKeys(tid("customer-email"), "chloe@example.com"), chromedp.Click(tid("session-submit")), chromedp.WaitVisible(tid("indicator")))
	if body := sentTo(c, "chloe@example.com"); !strings.HasPrefix(body, i18n.T("fr", "message.invitation.email_body", "customer", "Chloé Martin", "agent", "alex", "link", "")[:20]) {
		t.Fatalf("the invitation is not French: %q", body)
	}
	cust := customerTab(t)
	cust.do("open the link", chromedp.Navigate(c.Nodes[0].Server.URL+linkTo(c, "chloe@example.com")), chromedp.WaitVisible(tid("customer-chat-input")))
	cust.inLanguage("fr", i18n.T("fr", "room.welcome_name", "name", "Chloé"))
}

// TestTeamLanguagesInBrowser: an admin gives a team its customers'
// language and its consent text in Spanish; a Spanish session shows that
// text, and a session without a language opens in the team's.
func TestTeamLanguagesInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	base := c.Nodes[0].Server.URL
	team, err := c.Service().Store().Team(context.Background(), c.Team.ID)
	c.Must(err)
	team.Settings.TaskTemplates = []rooms.TaskTemplate{{Kind: "custom", Title: "Send your payslip"}}
	_, err = c.Service().Accounts.UpdateTeam(context.Background(), team)
	c.Must(err)
	admin := agentTab(t, "admin")
	admin.login(base, "ada@cohub.test")
	admin.do("open the team", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("settings-form")),
		chromedp.Click(tid("admin-teams")), chromedp.Click(tid("team-item", `[data-id="`+c.Team.ID+`"]`)),
		chromedp.WaitVisible(tid("consent-text")), chromedp.WaitReady(tid("team-language", ` option[value="de"]`)))
	admin.do("ask for consent", chromedp.Click(tid("team-consent-required")))
	admin.fill(tid("consent-text"), "Ich stimme zu, meine Unterlagen zu teilen.")
	admin.choose(tid("team-language"), "de")
	admin.do("open the Spanish texts", chromedp.Click(tid("translation-es", " summary")), chromedp.WaitVisible(tid("translation-consent-es")))
	admin.fill(tid("translation-consent-es"), "Acepto compartir mis documentos.")
	admin.fill(tid("tr-es-task-0"), "Envíe su nómina")
	admin.readable("a team's languages")
	admin.do("save the team", chromedp.Click(tid("team-save")))
	admin.contains(chromedp.CSS(".toast"), "Sales saved")
	team, err = c.Service().Store().Team(context.Background(), c.Team.ID)
	c.Must(err)
	if got := team.Settings.Translations["es"].TaskTemplates["Send your payslip"].Title; got != "Envíe su nómina" {
		t.Fatalf("the Spanish task template saved as %q", got)
	}
	if team.Settings.Language != "de" || team.Settings.Translations["es"].ConsentText != "Acepto compartir mis documentos." || len(team.Settings.Translations) != 1 {
		t.Fatalf("saved: language %q, translations %+v", team.Settings.Language, team.Settings.Translations)
	}

	esID, es := c.Session(rooms.CreateRequest{Language: "es", Customer: rooms.Customer{Name: "Ana", Email: "ana@example.com"}})
	offered, err := c.Service().Sessions.SessionSettings(context.Background(), c.Alex, esID)
	c.Must(err)
	if len(offered.TaskTemplates) != 1 || offered.TaskTemplates[0].Title != "Envíe su nómina" {
		t.Fatalf("a Spanish session is offered %+v", offered.TaskTemplates)
	}
	cust := customerTab(t)
	cust.do("a Spanish customer", chromedp.Navigate(base+"/c/"+es), chromedp.WaitVisible(tid("consent-shown")))
	cust.contains(tid("consent-shown"), "Acepto compartir mis documentos.")
	cust.contains(tid("consent-agree"), i18n.T("es", "consent.agree"))
	_, none := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Jan", Email: "jan@example.com"}})
	cust.do("a customer of the team's language", chromedp.Navigate(base+"/c/"+none), chromedp.WaitVisible(tid("consent-shown")))
	cust.until("the page is German", `document.documentElement.lang === "de"`)
	cust.contains(tid("consent-shown"), "Ich stimme zu, meine Unterlagen zu teilen.")
}
