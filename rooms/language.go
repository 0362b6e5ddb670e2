package rooms

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cohub/cohub/i18n"
)

// Translation is a team's texts for its customers in one more language
// than its own: the invitation's templates and the consent text. What
// it leaves empty comes from the catalogs (the invitation) or the
// team's own text (the consent).
type Translation struct {
	Templates   *Templates `json:"templates,omitempty"`
	ConsentText string     `json:"consent_text,omitempty"`
	// TaskTemplates are the team's task templates in this language, by
	// the template's title in the team's own: a session in this language
	// is offered them so, and its tasks reach the customer so.
	TaskTemplates map[string]TaskText `json:"task_templates,omitempty"`
}

// TaskText is a task template's words in another language (left empty:
// the team's own).
type TaskText struct {
	Title        string `json:"title"`
	Instructions string `json:"instructions,omitempty"`
	Text         string `json:"text,omitempty"`
}

// checkLanguage adds a problem when lang is set and not a shipped
// language.
func checkLanguage(lang, path string, f problems) {
	if lang != "" && !i18n.Known(lang) {
		f.add(path, "must be one of "+strings.Join(i18n.Languages(), ", "))
	}
}

// validTranslations checks a team's translations: each keyed by a
// shipped language, its templates complete when given.
func validTranslations(ts TeamSettings, f problems) {
	for lang, tr := range ts.Translations {
		path := "settings.translations." + lang
		if !i18n.Known(lang) {
			f.add(path, "must be keyed by one of "+strings.Join(i18n.Languages(), ", "))
			continue
		}
		if tr.Templates != nil {
			sub := problems{}
			validTemplates(*tr.Templates, sub)
			for k, v := range sub {
				f.add(path+strings.TrimPrefix(k, "settings"), v)
			}
		}
		if len(tr.ConsentText) > MaxTextLen {
			f.add(path+".consent_text", "must be at most 4000 characters")
		}
		validTaskTexts(ts.TaskTemplates, tr.TaskTemplates, path+".task_templates", f)
	}
}

// validTaskTexts: each names one of the team's task templates by its
// title and gives it a title of its own.
func validTaskTexts(own []TaskTemplate, texts map[string]TaskText, path string, f problems) {
	for key, t := range texts {
		p := path + "." + key
		switch {
		case !slices.ContainsFunc(own, func(tt TaskTemplate) bool { return tt.Title == key }):
			f.add(p, "must be the title of one of the team's task templates")
		case strings.TrimSpace(t.Title) == "":
			f.add(p+".title", "is required")
		case utf8.RuneCountInString(t.Title) > maxTitleLen:
			f.add(p+".title", "must be at most 200 characters")
		case len(t.Instructions) > MaxTextLen || len(t.Text) > MaxTextLen:
			f.add(p, "its texts must be at most 4000 characters each")
		}
	}
}

// localTemplates are the team's task templates in lang, where its
// translation gives them (the rest as written).
func localTemplates(ts TeamSettings, lang string, tpls []TaskTemplate) []TaskTemplate {
	tr, ok := ts.Translations[lang]
	if !ok || lang == teamLanguage(ts) || len(tr.TaskTemplates) == 0 {
		return tpls
	}
	out := make([]TaskTemplate, len(tpls))
	for i, t := range tpls {
		if tt, ok := tr.TaskTemplates[t.Title]; ok {
			t.Title = tt.Title
			if tt.Instructions != "" {
				t.Instructions = tt.Instructions
			}
			if tt.Text != "" {
				t.Text = tt.Text
			}
		}
		out[i] = t
	}
	return out
}

// sessionLanguage is the language the customer of sess reads, as far as
// the server knows without their browser: the session's, else its
// team's; "" when neither says.
func sessionLanguage(sess *Session, ts TeamSettings) string {
	if i18n.Known(sess.Language) {
		return sess.Language
	}
	if i18n.Known(ts.Language) {
		return ts.Language
	}
	return ""
}

// teamLanguage is the language a team's own texts are written in.
func teamLanguage(ts TeamSettings) string { return i18n.Or(ts.Language, i18n.Default) }

// messageTemplates are the texts of a message of a kind ("invitation",
// "reminder", "notice", "expiry") to a customer who reads lang (""
// when not known). The team writes its invitation: its own templates
// serve its own language and an unknown one, its translation another.
// Every other text, and a language the team has no translation for,
// comes from the catalog.
func messageTemplates(ts TeamSettings, lang, kind string) Templates {
	if kind == "invitation" {
		if lang == "" || lang == teamLanguage(ts) {
			return ts.Templates
		}
		if tr, ok := ts.Translations[lang]; ok && tr.Templates != nil {
			return *tr.Templates
		}
	}
	return CatalogTemplates(i18n.Or(lang, teamLanguage(ts)), kind)
}

// messageFor is messageTemplates for a session, a nameless customer
// greeted with their language's word for one ("Hola, cliente:") rather
// than notify's English "there".
func messageFor(sess *Session, ts TeamSettings, kind string) Templates {
	lang := sessionLanguage(sess, ts)
	t := messageTemplates(ts, lang, kind)
	if strings.TrimSpace(sess.Customer.Name) == "" {
		t = t.fill(strings.NewReplacer("{{customer}}", i18n.T(i18n.Or(lang, teamLanguage(ts)), "message.nameless")))
	}
	return t
}

// fill fills holes of all three texts with r.
func (t Templates) fill(r *strings.Replacer) Templates {
	return Templates{EmailSubject: r.Replace(t.EmailSubject), EmailBody: r.Replace(t.EmailBody), SMSBody: r.Replace(t.SMSBody)}
}

var catalogHole = regexp.MustCompile(`\{([a-z_]+)\}`)

// CatalogTemplates are the catalog's texts of a message in lang, in the
// templates' {{name}} syntax (notify.Render fills link, agent and
// customer; a caller fills the kind's own, such as {{stop}}).
func CatalogTemplates(lang, kind string) Templates {
	get := func(part string) string {
		return catalogHole.ReplaceAllString(i18n.T(lang, "message."+kind+"."+part), "{{$1}}")
	}
	return Templates{EmailSubject: get("email_subject"), EmailBody: get("email_body"), SMSBody: get("sms")}
}

// consentText is the team's consent text in lang, its own when it has
// none there.
func consentText(ts TeamSettings, lang string) string {
	if tr, ok := ts.Translations[lang]; ok && lang != teamLanguage(ts) && strings.TrimSpace(tr.ConsentText) != "" {
		return tr.ConsentText
	}
	return ts.Consent.Text
}

// CustomerLanguage is the language a link's customer reads: the
// session's, else its settings team's, else the best match of their
// browser's Accept-Language. A link that is not valid (or whose session
// is gone) still gets the browser's.
func (s *GateService) CustomerLanguage(ctx context.Context, link, acceptLanguage string) string {
	if c, err := parseLink(s.cfg.Secret, link); err == nil {
		if sess, err := s.store.Session(ctx, c.SessionID); err == nil {
			if _, ts, err := s.effective(ctx, sess.SettingsTeamID); err == nil {
				if lang := sessionLanguage(sess, ts); lang != "" {
					return lang
				}
			}
		}
	}
	return i18n.Match(acceptLanguage)
}

// SetCustomerLanguage keeps the language a customer picked on their
// page, so the messages sent to them later follow it. An expired link
// may still choose (its page offers a new link in that language).
func (s *GateService) SetCustomerLanguage(ctx context.Context, link, lang string) (string, error) {
	sess, _, err := s.CheckLink(ctx, link)
	if err != nil && !errors.Is(err, ErrLinkExpired) {
		return "", err
	}
	f := problems{}
	if lang == "" {
		f.add("language", "is required")
	}
	checkLanguage(lang, "language", f)
	if err := f.asError(); err != nil {
		return "", err
	}
	_, _, err = s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		cur.Language = lang
		return nil, nil
	})
	return lang, err
}
