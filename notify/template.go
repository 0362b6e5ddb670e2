package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Vars fill an invitation template.
type Vars struct {
	Link, Agent, Customer string
}

// Built-in templates: a team created with only a name uses these.
const (
	DefaultEmailSubject = "{{agent}} invited you to a secure session"
	DefaultEmailBody    = "Hello {{customer}},\n\n{{agent}} invited you to a secure session. Open it here:\n\n{{link}}\n\nThe link is personal: please do not share it."
	DefaultSMSBody      = "{{agent}} invited you to a secure session: {{link}}"
)

// Render replaces {{link}}, {{agent}} and {{customer}}. A template
// without {{link}} gets the link appended, since an invitation without
// its link is useless. Names are put on one line first (see Inline):
// names stored before they were checked must not add lines or headers.
func Render(tpl string, v Vars) string {
	agent, customer := Inline(v.Agent), Inline(v.Customer)
	if customer == "" {
		customer = "there"
	}
	out := strings.NewReplacer("{{link}}", v.Link, "{{agent}}", agent, "{{customer}}", customer).Replace(tpl)
	if strings.Contains(tpl, "{{link}}") || v.Link == "" {
		return out
	}
	if strings.Contains(out, "\n") {
		return strings.TrimRight(out, "\n") + "\n\n" + v.Link
	}
	return out + " " + v.Link
}

// RenderSubject renders an email subject: {{agent}} and {{customer}}, no
// link, and all on one line, as a header must be.
func RenderSubject(tpl string, v Vars) string {
	return Inline(strings.NewReplacer("{{agent}}", v.Agent, "{{customer}}", v.Customer, "{{link}}", "").Replace(tpl))
}

// Inline puts s on one line: each run of spaces and InlineUnsafe
// characters becomes one space, and the ends are trimmed.
func Inline(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || InlineUnsafe(r)
	}), " ")
}

// InlineUnsafe reports whether r must not stand in text shown on one
// line, such as a name: control characters (category Cc: line feed,
// carriage return, tab, escape, NEL…), the line and paragraph separators
// U+2028 and U+2029, and the bidirectional controls (U+061C, U+200E,
// U+200F, U+202A–U+202E, U+2066–U+2069), which make text read in another
// order than it is stored ("gpj.exe" shown as "exe.jpg"). Other format
// characters are allowed: zero-width joiners and non-joiners belong to
// emoji and to scripts such as Persian.
func InlineUnsafe(r rune) bool {
	return unicode.Is(unicode.Cc, r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// Scrub is err's text for the log with the contact masked and each secret
// cut out: a mail server or SMS provider may quote the recipient, or even
// the message (a link, a code), in its refusal. Give the longer secrets
// first: one may hold another.
func Scrub(err error, contact string, secrets ...string) string {
	text := err.Error()
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "…")
		}
	}
	if contact != "" {
		text = strings.ReplaceAll(text, contact, Mask(contact))
	}
	return text
}

// Mask hides a customer contact for logs: "jane@example.com" →
// "j***@example.com", "+14155550123" → "+1******0123". It counts
// characters, not bytes: an address may start with "é".
func Mask(contact string) string {
	if at := strings.LastIndexByte(contact, '@'); at > 0 {
		_, first := utf8.DecodeRuneInString(contact)
		return contact[:first] + "***" + contact[at:]
	}
	r := []rune(contact)
	if len(r) < 8 {
		return "***"
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-6) + string(r[len(r)-4:])
}
