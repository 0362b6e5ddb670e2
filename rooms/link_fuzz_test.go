package rooms

import (
	"strings"
	"testing"
	"time"
)

var (
	fuzzSecret  = []byte("fuzz-secret-0123456789abcdef")
	otherSecret = []byte("another-secret-0123456789abcd")
)

// FuzzLink: a link parses only in the one form the server signs, so
// what parses signs back to the same token and names the session whose
// customer cookie it picks; a signed link parses to its claims, and one
// byte changed, or another secret, never parses.
func FuzzLink(f *testing.F) {
	f.Fuzz(func(t *testing.T, token, body, sid string, gen int, exp int64, at uint16, flip byte) {
		// Anything a browser sends: garbage, or a body given a real
		// signature (which only the server can do) to reach the parser.
		for _, tok := range []string{token, body + "." + linkMAC(fuzzSecret, body)} {
			c, err := parseLink(fuzzSecret, tok)
			if err != nil {
				if err != ErrLinkInvalid {
					t.Fatalf("parseLink(%q) = %v, want ErrLinkInvalid", tok, err)
				}
				continue
			}
			if again := signLink(fuzzSecret, c); again != tok {
				t.Fatalf("parseLink(%q) = %+v, which signs as %q", tok, c, again)
			}
			if LinkSessionID(tok) != c.SessionID || c.SessionID == "" {
				t.Fatalf("link %q is for session %q, but its cookie is picked for %q", tok, c.SessionID, LinkSessionID(tok))
			}
		}

		want := LinkClaims{SessionID: sid, Gen: gen, Expires: time.Unix(exp, 0).UTC()}
		signed := signLink(fuzzSecret, want)
		c, err := parseLink(fuzzSecret, signed)
		if validID(sid) {
			if err != nil || c != want {
				t.Fatalf("signed %+v as %q; parsed %+v, %v", want, signed, c, err)
			}
		} else if err == nil {
			t.Fatalf("a link for session id %q parsed: %+v", sid, c)
		}

		if tampered := tamper(signed, at, flip); tampered != "" {
			if c, err := parseLink(fuzzSecret, tampered); err == nil {
				t.Fatalf("%q tampered as %q parsed: %+v", signed, tampered, c)
			}
		}
		if c, err := parseLink(otherSecret, signed); err == nil {
			t.Fatalf("%q parsed under another secret: %+v", signed, c)
		}
	})
}

// FuzzCustomerToken: a customer token proves something only in the one
// form the server signs, only for its session and link generation; a
// signed pass reads back as itself, and one byte changed proves nothing.
func FuzzCustomerToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, token, browser, gates, sid string, gen int, auth, consent bool, at uint16, flip byte) {
		s := &GateService{core: &core{cfg: Config{Secret: fuzzSecret}}}
		sess := &Session{ID: sid, Internal: SessionInternal{LinkGen: gen}}

		for _, tok := range []string{token, "v1." + browser + "." + gates + "." + s.passMAC(sess, browser, gates)} {
			p := s.readPass(sess, tok)
			if p == (gatePass{}) {
				continue
			}
			if again := s.signPass(sess, p); again != tok {
				t.Fatalf("readPass(%q) = %+v, which signs as %q", tok, p, again)
			}
		}

		p := gatePass{browser: browser, auth: auth, consent: consent}
		signed := s.signPass(sess, p)
		got := s.readPass(sess, signed)
		switch {
		case browser == "": // a new browser is given a random id
			if !validBrowser(got.browser) || got.auth != auth || got.consent != consent {
				t.Fatalf("signed %+v as %q; read %+v", p, signed, got)
			}
		case strings.Contains(browser, "."): // no browser id the server gives
			if got != (gatePass{}) {
				t.Fatalf("signed %+v as %q; read %+v", p, signed, got)
			}
		case got != p:
			t.Fatalf("signed %+v as %q; read %+v", p, signed, got)
		}

		for _, other := range []*Session{
			{ID: sid + "x", Internal: sess.Internal},
			{ID: sid, Internal: SessionInternal{LinkGen: gen + 1}},
		} {
			if p := s.readPass(other, signed); p != (gatePass{}) {
				t.Fatalf("%q for session %q gen %d proved %+v for session %q gen %d",
					signed, sid, gen, p, other.ID, other.Internal.LinkGen)
			}
		}
		if p := s.readPass(sess, tamper(signed, at, flip)); p != (gatePass{}) {
			t.Fatalf("%q tampered as %q proved %+v", signed, tamper(signed, at, flip), p)
		}
		other := &GateService{core: &core{cfg: Config{Secret: otherSecret}}}
		if p := other.readPass(sess, signed); p != (gatePass{}) {
			t.Fatalf("%q proved %+v under another secret", signed, p)
		}
	})
}

// validBrowser is a browser id a pass can carry: the random ids the
// server mints are base64url, never empty, never with a dot.
func validBrowser(b string) bool {
	return b != "" && !strings.ContainsFunc(b, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// tamper changes one byte of s (at and flip pick which and how); "" for
// an empty s.
func tamper(s string, at uint16, flip byte) string {
	if s == "" {
		return ""
	}
	b := []byte(s)
	b[int(at)%len(b)] ^= max(flip, 1)
	return string(b)
}
