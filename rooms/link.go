package rooms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
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

// pinKey is the key a session's PIN is sealed with: its own use of the
// link secret, so neither key opens what the other protects.
func pinKey(secret []byte) cipher.AEAD {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cohub session pin v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic("rooms: " + err.Error()) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("rooms: " + err.Error())
	}
	return aead
}

// sealPIN keeps a PIN so the agent who set it can read it again (the
// customer forgot it); the hash beside it is what the gate checks.
func sealPIN(secret []byte, pin string) []byte {
	aead := pinKey(secret)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("rooms: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return aead.Seal(nonce, nonce, []byte(pin), nil)
}

// openPIN reads a sealed PIN; false when it was sealed under another
// secret or changed.
func openPIN(secret, sealed []byte) (string, bool) {
	aead := pinKey(secret)
	if len(sealed) < aead.NonceSize() {
		return "", false
	}
	pin, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	return string(pin), err == nil
}
