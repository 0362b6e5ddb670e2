package notify

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// lineBreaks counts what ends a line in a mail or an SMS.
func lineBreaks(s string) int {
	n := 0
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == '\u0085' || r == '\u2028' || r == '\u2029' {
			n++
		}
	}
	return n
}

// checkInline: one line of visible text, single-spaced, trimmed.
func checkInline(t *testing.T, what, in, out string) {
	t.Helper()
	bad := strings.IndexFunc(out, func(r rune) bool { return InlineUnsafe(r) || unicode.IsSpace(r) && r != ' ' })
	if bad >= 0 || strings.Contains(out, "  ") || strings.TrimSpace(out) != out {
		t.Fatalf("%s of %q = %q: not one single-spaced, trimmed line of visible text", what, in, out)
	}
}

// FuzzRender: whatever names are stored, an invitation's names add no
// line, header or direction mark, its subject is one line that no link
// enters, and its body always carries the link. Text arrives as JSON,
// hence as valid UTF-8.
func FuzzRender(f *testing.F) {
	f.Fuzz(func(t *testing.T, tpl, link, agent, customer string) {
		for _, s := range []string{tpl, link, agent, customer} {
			if !utf8.ValidString(s) {
				return
			}
		}
		v := Vars{Link: link, Agent: agent, Customer: customer}
		plain := Vars{Link: link, Agent: "A", Customer: "C"}

		subject := RenderSubject(tpl, v)
		checkInline(t, "the subject", tpl, subject)
		if noLink := RenderSubject(tpl, Vars{Agent: agent, Customer: customer}); subject != noLink {
			t.Fatalf("the link %q changed the subject of %q: %q, without it %q", link, tpl, subject, noLink)
		}

		body := Render(tpl, v)
		if got, want := lineBreaks(body), lineBreaks(Render(tpl, plain)); got != want {
			t.Fatalf("names %q, %q made %q render on %d lines, not %d:\n%s", agent, customer, tpl, got+1, want+1, body)
		}
		if !strings.Contains(body, link) {
			t.Fatalf("%q rendered without its link %q: %q", tpl, link, body)
		}
		a, c := Inline(agent), Inline(customer)
		checkInline(t, "Inline", agent, a)
		checkInline(t, "Inline", customer, c)
		if Inline(a) != a {
			t.Fatalf("Inline(%q) = %q, and again %q", agent, a, Inline(a))
		}
		if strings.Contains(tpl, "{{agent}}") && !strings.Contains(body, a) {
			t.Fatalf("%q rendered without the agent %q: %q", tpl, a, body)
		}
		if strings.Contains(tpl, "{{customer}}") && c != "" && !strings.Contains(body, c) {
			t.Fatalf("%q rendered without the customer %q: %q", tpl, c, body)
		}
		if link != "" && !strings.Contains(tpl, "{{link}}") && !strings.HasSuffix(body, link) {
			t.Fatalf("%q has no {{link}}, yet the link %q is not appended: %q", tpl, link, body)
		}
	})
}

// FuzzMask: a masked contact shows at most the first character and the
// domain of an email, or the first two and last four characters of a
// phone; it is never the contact itself and stays valid UTF-8.
func FuzzMask(f *testing.F) {
	f.Fuzz(func(t *testing.T, contact string) {
		if !utf8.ValidString(contact) {
			return
		}
		m := Mask(contact)
		if !utf8.ValidString(m) {
			t.Fatalf("Mask(%q) = %q: not valid UTF-8", contact, m)
		}
		// A contact of stars where it is masked looks the same masked.
		if contact != "" && m == contact && !strings.Contains(contact, "*") {
			t.Fatalf("Mask(%q) shows it whole", contact)
		}
		if at := strings.LastIndexByte(contact, '@'); at > 0 {
			first, _ := utf8.DecodeRuneInString(contact)
			if want := string(first) + "***" + contact[at:]; m != want {
				t.Fatalf("Mask(%q) = %q, want %q", contact, m, want)
			}
			return
		}
		shown := utf8.RuneCountInString(strings.ReplaceAll(m, "*", ""))
		if shown > 6 || shown > 0 && utf8.RuneCountInString(contact) < 8 {
			t.Fatalf("Mask(%q) = %q: shows too much", contact, m)
		}
	})
}
