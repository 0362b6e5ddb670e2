package notify

import "strings"

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
// its link is useless.
func Render(tpl string, v Vars) string {
	customer := v.Customer
	if customer == "" {
		customer = "there"
	}
	out := strings.NewReplacer("{{link}}", v.Link, "{{agent}}", v.Agent, "{{customer}}", customer).Replace(tpl)
	if strings.Contains(tpl, "{{link}}") || v.Link == "" {
		return out
	}
	if strings.Contains(out, "\n") {
		return strings.TrimRight(out, "\n") + "\n\n" + v.Link
	}
	return out + " " + v.Link
}

// Mask hides a customer contact for logs: "jane@example.com" →
// "j***@example.com", "+14155550123" → "+1******0123".
func Mask(contact string) string {
	if at := strings.LastIndexByte(contact, '@'); at > 0 {
		return contact[:1] + "***" + contact[at:]
	}
	if len(contact) < 8 {
		return "***"
	}
	return contact[:2] + strings.Repeat("*", len(contact)-6) + contact[len(contact)-4:]
}
