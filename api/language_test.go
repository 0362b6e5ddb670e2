package api_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cohub/cohub/i18n"
	"github.com/cohub/cohub/rooms"
)

// subjectTo is the subject of the newest message sent to an address.
func (e *env) subjectTo(to string) string {
	e.t.Helper()
	msgs, err := e.outbox.List(context.Background(), 1000)
	e.must(err)
	for _, m := range msgs {
		if m.To == to {
			return m.Subject
		}
	}
	e.t.Fatalf("nothing sent to %s", to)
	return ""
}

// page fetches a customer's page as a browser with an Accept-Language.
func (e *env) page(link, accept string) string {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+"/c/"+link, nil)
	e.must(err)
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	return string(e.send(req).want(200).body)
}

func (e *env) setLanguage(link string, body any) *resp {
	e.t.Helper()
	return e.customerWith("POST", "/api/customer/language", link, body, "")
}

// TestUnknownLanguageChangesNothing: an unknown language is a 400 naming
// its field wherever it is given, and nothing changes.
func TestUnknownLanguageChangesNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.do("POST", "/api/sessions", "alex", map[string]any{
			"mode": "start", "language": "tlh", "customer": map[string]string{"email": "kim@example.com"},
		}).wantField("language")
		if msgs, _ := e.outbox.List(context.Background(), 100); len(msgs) != 0 {
			t.Fatalf("a refused session sent %d messages", len(msgs))
		}

		ts := rooms.DefaultTeamSettings()
		ts.Language = "tlh"
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).wantField("settings.language")
		ts.Language = "es"
		ts.Translations = map[string]rooms.Translation{"zz": {ConsentText: "x"}}
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).wantField("settings.translations.zz")
		ts.Translations = map[string]rooms.Translation{"fr": {Templates: &rooms.Templates{EmailSubject: "Bonjour"}}}
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).wantField("settings.translations.fr.templates.sms_body")
		var team rooms.Team
		e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&team)
		if team.Settings.Language != "" || len(team.Settings.Translations) != 0 {
			t.Fatalf("refused settings were kept: %+v", team.Settings)
		}

		s := e.startSession("alex", "lee@example.com")
		link := e.linkSentTo("lee@example.com")
		e.setLanguage(link, map[string]string{"language": "de"}).want(200)
		e.setLanguage(link, map[string]string{"language": "tlh"}).wantField("language")
		e.setLanguage(link, map[string]string{}).wantField("language")
		e.do("POST", "/api/customer/language", "", map[string]string{"language": "es"}).wantError(401, "unauthenticated")
		if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session().Language; got != "de" {
			t.Fatalf("the session's language is %q after refused changes, want de", got)
		}
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "lee@example.com"}, "language": "xx",
		}).wantField("language")
	})
}

// TestLanguageOrder: the customer's language is the session's, else the
// team's, else the browser's; the invitation, the page and the
// customer's errors follow it, and the team's texts in that language
// win over the catalogs'.
func TestLanguageOrder(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		// No language anywhere: the browser's decides the page.
		s := e.startSession("alex", "ana@example.com")
		link := e.linkSentTo("ana@example.com")
		if got := e.subjectTo("ana@example.com"); !strings.Contains(got, "invited you") {
			t.Fatalf("invitation subject %q, want the team's English", got)
		}
		if p := e.page(link, "es-MX,es;q=0.9"); !strings.Contains(p, `<html lang="es" dir="ltr">`) || !strings.Contains(p, i18n.T("es", "page.opening")) {
			t.Fatalf("an es-MX browser's page is not Spanish:\n%.400s", p)
		}
		// The session's language wins over the browser's.
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "ana@example.com"}, "language": "he",
		}).want(200)
		link = e.linkSentTo("ana@example.com")
		if got, want := e.subjectTo("ana@example.com"), i18n.T("he", "message.invitation.email_subject", "agent", "Alex"); got != want {
			t.Fatalf("re-engaged in Hebrew, invitation subject %q, want %q", got, want)
		}
		if p := e.page(link, "es"); !strings.Contains(p, `<html lang="he" dir="rtl">`) {
			t.Fatalf("a Hebrew session's page:\n%.300s", p)
		}
		// The customer's errors are in their language too.
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/customer/verify", strings.NewReader(`{"pin":"1","code":"2"}`))
		req.Header.Set("Authorization", "Link "+link)
		var out struct{ Error struct{ Message string } }
		e.send(req).wantError(400, "validation_failed").into(&out)
		if out.Error.Message != i18n.T("he", "error.validation_failed") {
			t.Fatalf("a Hebrew customer's error says %q", out.Error.Message)
		}
		bad, _ := http.NewRequest("GET", e.srv.URL+"/api/customer/session", nil)
		bad.Header.Set("Authorization", "Link not-a-link")
		bad.Header.Set("Accept-Language", "fr-CA")
		e.send(bad).wantError(401, "unauthenticated").into(&out)
		if out.Error.Message != i18n.T("fr", "error.unauthenticated") {
			t.Fatalf("a bad link from a French browser is told %q", out.Error.Message)
		}

		// The team's language, and its own texts in another language.
		ts := rooms.DefaultTeamSettings()
		ts.Language = "fr"
		ts.Consent = rooms.ConsentSetting{Required: true, Text: "J'accepte."}
		ts.Translations = map[string]rooms.Translation{"es": {
			Templates:   &rooms.Templates{EmailSubject: "Hola de {{agent}}", EmailBody: "Hola {{customer}}: {{link}}", SMSBody: "{{link}}"},
			ConsentText: "Acepto.",
		}}
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).want(200)
		e.startSession("alex", "bo@example.com")
		if p := e.page(e.linkSentTo("bo@example.com"), "de"); !strings.Contains(p, `<html lang="fr"`) {
			t.Fatalf("a French team's session without a language is not French:\n%.300s", p)
		}
		if got := e.subjectTo("bo@example.com"); !strings.Contains(got, "invited you") {
			t.Fatalf("the team's own texts go to its own language's customers, got %q", got)
		}
		e.do("POST", "/api/sessions", "alex", map[string]any{
			"mode": "start", "language": "es", "customer": map[string]string{"email": "cy@example.com"},
		}).want(201)
		if got := e.subjectTo("cy@example.com"); got != "Hola de Alex" {
			t.Fatalf("the team's Spanish invitation: subject %q", got)
		}
		var view rooms.CustomerView
		e.customer("GET", "/api/customer/session", e.linkSentTo("cy@example.com")).want(200).into(&view)
		if view.Session.Consent.Text != "Acepto." {
			t.Fatalf("the consent shown in Spanish: %+v", view.Session.Consent)
		}
		e.do("POST", "/api/sessions", "alex", map[string]any{
			"mode": "start", "language": "de", "customer": map[string]string{"email": "di@example.com"},
		}).want(201)
		if got, want := e.subjectTo("di@example.com"), i18n.T("de", "message.invitation.email_subject", "agent", "Alex"); got != want {
			t.Fatalf("no German texts of the team's: subject %q, want the catalog's %q", got, want)
		}
	})
}

// TestCustomerSwitchesLanguage: the choice on the page is kept on the
// session; the page's next load and the next invitation follow it.
func TestCustomerSwitchesLanguage(t *testing.T) {
	e := newEnv(t, "memory")
	s := e.startSession("alex", "eve@example.com")
	link := e.linkSentTo("eve@example.com")
	if p := e.page(link, "en"); !strings.Contains(p, `<html lang="en" dir="ltr">`) {
		t.Fatalf("page before the switch:\n%.300s", p)
	}
	var out struct{ Language string }
	e.setLanguage(link, map[string]string{"language": "fr"}).want(200).into(&out)
	if out.Language != "fr" {
		t.Fatalf("switch answered %q", out.Language)
	}
	if p := e.page(link, "en"); !strings.Contains(p, `<html lang="fr" dir="ltr">`) || !strings.Contains(p, "<title>"+i18n.T("fr", "page.title")+"</title>") {
		t.Fatalf("page after the switch:\n%.400s", p)
	}
	e.customerWith("POST", "/api/customer/new-link", link, map[string]any{}, "").want(202)
	if got, want := e.subjectTo("eve@example.com"), i18n.T("fr", "message.invitation.email_subject", "agent", "Alex"); got != want {
		t.Fatalf("the next invitation's subject %q, want %q", got, want)
	}
	if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session().Language; got != "fr" {
		t.Fatalf("the agent sees language %q", got)
	}
}

// TestCatalogRoute: a language's page words are public and cached; an
// unknown language is not found.
func TestCatalogRoute(t *testing.T) {
	e := newEnv(t, "memory")
	r := e.do("GET", "/i18n/es.json", "", nil).want(200)
	var w i18n.PageWords
	r.into(&w)
	if w.Lang != "es" || w.Catalog["action.send"] != "Enviar" || len(w.Languages) < 5 || w.Catalog["message.invitation.sms"] != "" {
		t.Fatalf("es.json: lang %q, send %q, %d languages, messages leak: %v", w.Lang, w.Catalog["action.send"], len(w.Languages), w.Catalog["message.invitation.sms"] != "")
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
		t.Fatalf("catalog Cache-Control %q", cc)
	}
	e.do("GET", "/i18n/xx.json", "", nil).wantError(404, "not_found")
}

// TestContractLanguages: the contract's language enum is the shipped
// catalogs, so a new catalog is not refused by a client that validates.
func TestContractLanguages(t *testing.T) {
	e := newEnv(t, "memory")
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	e.do("GET", "/api/openapi.json", "", nil).want(200).into(&doc)
	got := append([]string(nil), doc.Components.Schemas["Language"].Enum...)
	want := i18n.Languages()
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the contract's languages %v, the catalogs' %v", got, want)
	}
}

// TestCustomerErrorKeepsItsReason: a refusal with a reason of its own
// (which limit, until when) tells a Spanish customer the code in Spanish
// and keeps the reason after it; an English customer's is unchanged.
func TestCustomerErrorKeepsItsReason(t *testing.T) {
	e := newEnv(t, "memory")
	e.do("POST", "/api/sessions", "alex", map[string]any{
		"mode": "start", "language": "es", "customer": map[string]string{"email": "sol@example.com"},
	}).want(201)
	link := e.linkSentTo("sol@example.com")
	e.customer("POST", "/api/customer/new-link", link).want(202)
	var out struct{ Error struct{ Message string } }
	e.customer("POST", "/api/customer/new-link", link).wantError(429, "rate_limited").into(&out)
	es := i18n.T("es", "error.rate_limited")
	if !strings.HasPrefix(out.Error.Message, es+" (") || len(out.Error.Message) <= len(es)+3 {
		t.Fatalf("a Spanish customer's refusal: %q", out.Error.Message)
	}
	e.setLanguage(link, map[string]string{"language": "en"}).want(200)
	e.customer("POST", "/api/customer/new-link", link).wantError(429, "rate_limited").into(&out)
	if strings.Contains(out.Error.Message, i18n.T("en", "error.rate_limited")) {
		t.Fatalf("an English customer's refusal lost its own reason: %q", out.Error.Message)
	}
}

// TestTaskTemplatesInTheSessionsLanguage: a team's task templates in
// another language are what a session in that language is offered (so
// its tasks reach the customer in it); one that names no template of the
// team's, or gives no title, is refused and nothing is kept.
func TestTaskTemplatesInTheSessionsLanguage(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ts := rooms.DefaultTeamSettings()
		ts.TaskTemplates = []rooms.TaskTemplate{
			{Kind: "custom", Title: "Send your payslip"},
			{Kind: "consent", Title: "Agree to the terms", TaskContent: rooms.TaskContent{Text: "I agree to the terms."}},
		}
		ts.Translations = map[string]rooms.Translation{"es": {TaskTemplates: map[string]rooms.TaskText{"Nope": {Title: "No"}}}}
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).wantField("settings.translations.es.task_templates.Nope")
		ts.Translations = map[string]rooms.Translation{"es": {TaskTemplates: map[string]rooms.TaskText{"Send your payslip": {Title: " "}}}}
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).wantField("settings.translations.es.task_templates.Send your payslip.title")
		var team rooms.Team
		e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&team)
		kept := slices.ContainsFunc(team.Settings.TaskTemplates, func(tt rooms.TaskTemplate) bool { return tt.Title == "Agree to the terms" })
		if len(team.Settings.Translations) != 0 || kept {
			t.Fatalf("refused settings were kept: %+v", team.Settings)
		}

		ts.Translations = map[string]rooms.Translation{"es": {TaskTemplates: map[string]rooms.TaskText{
			"Send your payslip":  {Title: "Envíe su nómina"},
			"Agree to the terms": {Title: "Acepte las condiciones", Text: "Acepto las condiciones."},
		}}}
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).want(200)
		offered := func(lang, email string) []rooms.TaskTemplate {
			var s rooms.Session
			e.do("POST", "/api/sessions", "alex", map[string]any{
				"mode": "start", "language": lang, "customer": map[string]string{"email": email},
			}).want(201).into(&s)
			var set rooms.SessionSettings
			e.do("GET", "/api/sessions/"+s.ID+"/settings", "alex", nil).want(200).into(&set)
			return set.TaskTemplates
		}
		es := offered("es", "ana@example.com")
		if len(es) != 2 || es[0].Title != "Envíe su nómina" || es[1].Title != "Acepte las condiciones" || es[1].Text != "Acepto las condiciones." {
			t.Fatalf("a Spanish session is offered %+v", es)
		}
		if en := offered("en", "bo@example.com"); len(en) != 2 || en[0].Title != "Send your payslip" || en[1].Text != "I agree to the terms." {
			t.Fatalf("an English session is offered %+v", en)
		}
		if de := offered("de", "cy@example.com"); de[0].Title != "Send your payslip" {
			t.Fatalf("a German session (no German texts) is offered %+v", de)
		}
	})
}
