// Package followup wakes sessions on time so that what brings a
// customer back (reminders, notices, expiry warnings) is sent once,
// whichever node is up. It keeps one wake-up time per session in a
// Schedule (memory, the embedded file or Redis) and runs a Worker on
// every node: the worker claims what is due for a lease, asks the
// domain to wake it, and sets the time it asks for next. It imports
// none of Cohub's domain; the domain decides what is due.
package followup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Schedule keeps one wake-up time per session, shared by every node.
type Schedule interface {
	// Sooner makes the session due no later than at: an earlier time
	// already set stays.
	Sooner(ctx context.Context, sessionID string, at time.Time) error
	// Claim takes up to max sessions due at now, each hidden from other
	// claims until now+lease: a node that dies holding one frees it
	// when the lease runs out.
	Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Claim, error)
	// Finish ends a claim: the session is next due at next (none when
	// next is zero). When Sooner asked for it during the claim, it stays
	// due no later than the lease's end, since the wake may have read the
	// session before what asked. A claim whose lease another node has
	// since taken over changes nothing.
	Finish(ctx context.Context, c Claim, next time.Time) error
}

// Claim is one session taken from a Schedule until its lease ends.
type Claim struct {
	SessionID string
	// Until is when the lease ends.
	Until time.Time
	// Token tells this claim from a later one of the same session.
	Token string
}

// Waker wakes one session: it sends what is due and says when to wake
// it next (zero: never, until something moves it Sooner).
type Waker interface {
	Wake(ctx context.Context, sessionID string) (time.Time, error)
}

// NewToken is a fresh claim token.
func NewToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
