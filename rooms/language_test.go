package rooms

import (
	"strings"
	"testing"

	"github.com/cohub/cohub/i18n"
)

// TestMessageTemplates: the team's invitation serves its own language
// and an unknown one, its translation another, the catalog the rest;
// the other kinds of message always come from the catalog, in the
// customer's language or the team's.
func TestMessageTemplates(t *testing.T) {
	ts := DefaultTeamSettings()
	ts.Language = "de"
	ts.Templates.EmailSubject = "Team: {{agent}}"
	es := Templates{EmailSubject: "Equipo: {{agent}}", EmailBody: "{{link}}", SMSBody: "{{link}}"}
	ts.Translations = map[string]Translation{"es": {Templates: &es}}
	for _, c := range []struct{ lang, kind, want string }{
		{"", "invitation", "Team: {{agent}}"},
		{"de", "invitation", "Team: {{agent}}"},
		{"es", "invitation", "Equipo: {{agent}}"},
		{"fr", "invitation", strings.ReplaceAll(i18n.T("fr", "message.invitation.email_subject"), "{agent}", "{{agent}}")},
		{"es", "reminder", strings.ReplaceAll(i18n.T("es", "message.reminder.email_subject"), "{agent}", "{{agent}}")},
		{"", "notice", strings.ReplaceAll(i18n.T("de", "message.notice.email_subject"), "{agent}", "{{agent}}")},
	} {
		if got := messageTemplates(ts, c.lang, c.kind).EmailSubject; got != c.want {
			t.Errorf("%s in %q: subject %q, want %q", c.kind, c.lang, got, c.want)
		}
	}
	body := messageTemplates(ts, "he", "expiry").EmailBody
	if !strings.Contains(body, "{{stop}}") || !strings.Contains(body, "{{when}}") || strings.Contains(strings.ReplaceAll(body, "{{stop}}", ""), "{stop}") {
		t.Errorf("a catalog text's placeholders become the templates' {{name}}: %q", body)
	}
}

// TestNamelessCustomer: a customer without a name is greeted in their
// language, not with notify's English "there".
func TestNamelessCustomer(t *testing.T) {
	ts := DefaultTeamSettings()
	sess := &Session{Language: "es"}
	if got := messageFor(sess, ts, "invitation").EmailBody; !strings.HasPrefix(got, "Hola, cliente:") {
		t.Errorf("a nameless Spanish customer's invitation: %q", got)
	}
	sess = &Session{}
	if got := messageFor(sess, ts, "invitation").EmailBody; !strings.HasPrefix(got, "Hello there,") {
		t.Errorf("a nameless customer of an English team: %q", got)
	}
	sess = &Session{Language: "es", Customer: Customer{Name: "Ana"}}
	if got := messageFor(sess, ts, "invitation").EmailBody; !strings.HasPrefix(got, "Hola, {{customer}}:") {
		t.Errorf("a named customer keeps the placeholder: %q", got)
	}
}
