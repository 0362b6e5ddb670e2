package rooms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LinkClaims is what a signed customer link says.
type LinkClaims struct {
	SessionID string
	Gen       int
	Expires   time.Time
}

// Link is a customer URL and when it stops working.
type Link struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"-"`
}

// signLink makes the token "ID.GEN.EXP.SIG": readable claims and an
// HMAC-SHA256 over them, so no lookup is needed to reject a forgery.
func signLink(secret []byte, c LinkClaims) string {
	body := linkBody(c)
	return body + "." + linkMAC(secret, body)
}

func linkBody(c LinkClaims) string {
	return fmt.Sprintf("%s.%d.%d", c.SessionID, c.Gen, c.Expires.Unix())
}

func linkMAC(secret []byte, body string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// parseLink checks the signature in constant time and returns the
// claims. A link has one spelling, the one signLink writes ("+1" or
// "01" for 1 would be another link with the same claims), and names a
// session id, the one LinkSessionID picks the customer cookie by.
func parseLink(secret []byte, token string) (LinkClaims, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return LinkClaims{}, ErrLinkInvalid
	}
	body, sig := token[:i], token[i+1:]
	if !hmac.Equal([]byte(sig), []byte(linkMAC(secret, body))) {
		return LinkClaims{}, ErrLinkInvalid
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 || !validID(parts[0]) {
		return LinkClaims{}, ErrLinkInvalid
	}
	gen, err1 := strconv.Atoi(parts[1])
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	c := LinkClaims{SessionID: parts[0], Gen: gen, Expires: time.Unix(exp, 0).UTC()}
	if err1 != nil || err2 != nil || linkBody(c) != body {
		return LinkClaims{}, ErrLinkInvalid
	}
	return c, nil
}

// CustomerCookie names the cookie that carries a session's customer
// token: one per session, so several gated sessions live side by side
// in one browser.
func CustomerCookie(sessionID string) string { return "cohub_customer_" + sessionID }

// LinkSessionID reads the session id a link names, without checking it:
// enough to pick the customer cookie; the link is checked where it counts.
func LinkSessionID(link string) string {
	id, _, _ := strings.Cut(link, ".")
	if !validID(id) {
		return ""
	}
	return id
}

// validID reports whether s can be an id the server gave: letters,
// digits and underscores, as newID makes them.
func validID(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	})
}
