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
	plain, err := json.Marshal(sealedTicket{Credential: c, Expires: expires.UnixMilli()})
	if err != nil {
		return "", time.Time{}, err
	}
	aead := ticketAEAD(ticket)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plain, nil)
	if err := s.store.PutTicket(ctx, ticketHash(ticket), sealed, TicketTTL); err != nil {
		return "", time.Time{}, err
	}
	return ticket, expires, nil
}

// Take uses a ticket up and returns its credential, still to be checked;
// ErrBadCredential for one used, expired, forged or never issued.
func (s *TicketService) Take(ctx context.Context, ticket string) (Credential, error) {
	if ticket == "" || len(ticket) > 128 {
		return Credential{}, ErrBadCredential
	}
	sealed, err := s.store.TakeTicket(ctx, ticketHash(ticket))
	if errors.Is(err, ErrNotFound) {
		return Credential{}, ErrBadCredential
	}
	if err != nil {
		return Credential{}, err
	}
	aead := ticketAEAD(ticket)
	if len(sealed) < aead.NonceSize() {
		return Credential{}, ErrBadCredential
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	var t sealedTicket
	if err != nil || json.Unmarshal(plain, &t) != nil || s.now().UnixMilli() > t.Expires {
		return Credential{}, ErrBadCredential
	}
	return t.Credential, nil
}

// ticketHash is the ticket's name in the store.
func ticketHash(ticket string) string {
	h := sha256.Sum256([]byte("cohub ws ticket id\x00" + ticket))
	return hex.EncodeToString(h[:])
}

// ticketAEAD seals a ticket's credential under a key derived from the
// ticket itself, apart from its hash.
func ticketAEAD(ticket string) cipher.AEAD {
	key := sha256.Sum256([]byte("cohub ws ticket key\x00" + ticket))
	block, _ := aes.NewCipher(key[:]) // a 32-byte key never fails
	aead, _ := cipher.NewGCM(block)
	return aead
}
