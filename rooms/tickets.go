package rooms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TicketTTL is how long a WebSocket ticket may wait to be used.
const TicketTTL = 30 * time.Second

// ErrCredentialInURL refuses a /ws URL that carries a credential: URLs
// end up in proxies' and browsers' logs, a ticket is used once.
var ErrCredentialInURL = fmt.Errorf("%w: a credential in the URL is refused; open the socket with a ticket from POST /api/ws/ticket", ErrBadCredential)

// Credential is what a WebSocket ticket stands for: an agent's login
// token, or a customer's link with the pass their browser earned at the
// gates. It is checked again when the ticket is used, so a credential
// revoked meanwhile opens nothing.
type Credential struct {
	Token string `json:"t,omitempty"`
	Link  string `json:"l,omitempty"`
	Pass  string `json:"p,omitempty"`
}

type sealedTicket struct {
	Credential
	Expires int64 `json:"x"` // unix ms, by the service's clock
}

// Issue returns a ticket for a credential the caller has checked, and
// when it expires.
func (s *TicketService) Issue(ctx context.Context, c Credential) (string, time.Time, error) {
	ticket := randomToken()
	expires := s.now().Add(TicketTTL)
	sealed, err := seal(wsTicket, ticket, sealedTicket{Credential: c, Expires: expires.UnixMilli()})
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.store.PutTicket(ctx, secretHash(wsTicket, ticket), sealed, TicketTTL); err != nil {
		return "", time.Time{}, err
	}
	return ticket, expires, nil
}

// Take uses a ticket up and returns its credential, still to be checked;
// ErrBadCredential for one used, expired, forged or never issued.
func (s *TicketService) Take(ctx context.Context, ticket string) (Credential, error) {
	var t sealedTicket
	if err := s.take(ctx, wsTicket, ticket, &t); err != nil {
		return Credential{}, err
	}
	return t.Credential, nil
}

// wsTicket and ssoState are the purposes a one-use secret is kept for:
// each derives its own names and keys, so one is never taken as another.
const (
	wsTicket = "ws ticket"
	ssoState = "sso state"
)

// expiring is what a one-use secret stands for: it says until when, by
// the service's clock (the store's TTL is the backend's).
type expiring interface{ expiresAt() int64 }

func (t sealedTicket) expiresAt() int64 { return t.Expires }

// take uses up the one-use secret kept for purpose and opens what it
// sealed into v; ErrBadCredential for one used, expired, forged or
// never issued.
func (s *core) take(ctx context.Context, purpose, secret string, v expiring) error {
	if secret == "" || len(secret) > 128 {
		return ErrBadCredential
	}
	sealed, err := s.store.TakeTicket(ctx, secretHash(purpose, secret))
	if errors.Is(err, ErrNotFound) {
		return ErrBadCredential
	}
	if err != nil {
		return err
	}
	aead := secretAEAD(purpose, secret)
	if len(sealed) < aead.NonceSize() {
		return ErrBadCredential
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil || json.Unmarshal(plain, v) != nil || s.now().UnixMilli() > v.expiresAt() {
		return ErrBadCredential
	}
	return nil
}

// seal encrypts v under a key only the secret gives.
func seal(purpose, secret string, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	aead := secretAEAD(purpose, secret)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, nil), nil
}

// secretHash is a one-use secret's name in the store.
func secretHash(purpose, secret string) string {
	h := sha256.Sum256([]byte("cohub " + purpose + " id\x00" + secret))
	return hex.EncodeToString(h[:])
}

// secretAEAD seals what a one-use secret stands for under a key derived
// from the secret itself, apart from its hash.
func secretAEAD(purpose, secret string) cipher.AEAD {
	key := sha256.Sum256([]byte("cohub " + purpose + " key\x00" + secret))
	block, _ := aes.NewCipher(key[:]) // a 32-byte key never fails
	aead, _ := cipher.NewGCM(block)
	return aead
}
