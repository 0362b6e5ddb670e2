package notify

import (
	"context"
	"testing"
)

func TestMuxRoutesByChannel(t *testing.T) {
	email, sms := NewMemoryOutbox(10), NewMemoryOutbox(10)
	m := Mux{Email: email, SMS: sms}
	ctx := context.Background()
	if err := m.Send(ctx, Message{Channel: "sms", To: "+1"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctx, Message{Channel: "pigeon"}); err == nil {
		t.Fatal("an unknown channel was accepted")
	}
	e, _ := email.List(ctx, 10)
	s, _ := sms.List(ctx, 10)
	if len(e) != 0 || len(s) != 1 {
		t.Fatalf("email got %d, sms got %d", len(e), len(s))
	}
}

func TestRender(t *testing.T) {
	v := Vars{Link: "https://x/c/t", Agent: "Alex", Customer: "Cara"}
	for tpl, want := range map[string]string{
		"{{agent}} invited {{customer}}: {{link}}": "Alex invited Cara: https://x/c/t",
		"Hi {{customer}}, see you soon":            "Hi Cara, see you soon https://x/c/t",
		"Hi {{customer}},\nsee you\n":              "Hi Cara,\nsee you\n\nhttps://x/c/t",
	} {
		if got := Render(tpl, v); got != want {
			t.Errorf("Render(%q) = %q, want %q", tpl, got, want)
		}
	}
	if got := Render("Hello {{customer}}", Vars{}); got != "Hello there" {
		t.Errorf("no name, no link: %q", got)
	}
}

// TestRenderKeepsNamesOnOneLine: names reach an invitation without a
// line break, control character or direction mark of their own, whatever
// was stored; the template's own lines stay in bodies.
func TestRenderKeepsNamesOnOneLine(t *testing.T) {
	v := Vars{Link: "https://x/c/t", Agent: "Alex\r\nBcc: eve@example.com", Customer: "\u202ECara\u2028\x1b[2J\tDoe\u0085\u2066"}
	body := Render("Hello {{customer}},\n{{agent}} invited you: {{link}}", v)
	if want := "Hello Cara [2J Doe,\nAlex Bcc: eve@example.com invited you: https://x/c/t"; body != want {
		t.Errorf("body = %q, want %q", body, want)
	}
	if got := RenderSubject("{{agent}} invited\n{{customer}} {{link}}", v); got != "Alex Bcc: eve@example.com invited Cara [2J Doe" {
		t.Errorf("subject = %q", got)
	}
	if got := Render("Hello {{customer}}", Vars{Customer: "\r\n\u202E"}); got != "Hello there" {
		t.Errorf("a name of control characters only: %q", got)
	}
	// Joiners used by emoji and scripts are not direction marks.
	if got := Inline("Mehr\u200Cdad 👩\u200D💻"); got != "Mehr\u200Cdad 👩\u200D💻" {
		t.Errorf("Inline changed a plain name: %q", got)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"jane.doe@example.com": "j***@example.com",
		"+14155550123":         "+1******0123",
		"+4412":                "***",
		"":                     "***",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}
