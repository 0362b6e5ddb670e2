package rooms

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/netip"
	"time"
)

// Gate limits (DESIGN.md §5 "Customer gates").
const (
	OTPEvery    = 30 * time.Second
	OTPLifetime = 10 * time.Minute
	MaxAuthFail = 5
	// OTPsPerDay and NewLinksPerDay bound what one session may send to
	// its customer; PerIPPerHour bounds one network across sessions.
	OTPsPerDay     = 10
	NewLinksPerDay = 5
	PerIPPerHour   = 30
)

// lockFor is how long the nth lockout lasts: a quarter of an hour, an
// hour, then until an agent unlocks (0). With 6-digit PINs that leaves
// 15 guesses in a million before a person is involved.
func lockFor(lockouts int) time.Duration {
	switch lockouts {
	case 1:
		return 15 * time.Minute
	case 2:
		return time.Hour
	}
	return 0
}

// gatePass is what one browser proved at a session's gates. Its token is
// "v1.{browser}.{gates}.{mac}": browser is a random id minted at the
// browser's first passed gate, gates is "a" (authenticated) and/or "c"
// (consented), and the mac binds both to the session and link
// generation. The token lives only in that browser (an HttpOnly cookie),
// so a forwarded link must pass the gates again.
type gatePass struct {
	browser string
	auth    bool
	consent bool
}

func (p gatePass) encodeGates() string {
	g := ""
	if p.auth {
		g += "a"
	}
	if p.consent {
		g += "c"
	}
	return g
}

func authRequired(s *Session) bool {
	return orDefault(s.Internal.Authentication, AuthNotRequired) != AuthNotRequired
}

func consentRequired(s *Session) bool {
	return orDefault(s.Internal.Consent, ConsentNotRequested) != ConsentNotRequested
}

// admits reports whether a browser's pass opens the room: every gate
// the session asks for passed by this browser, and consent still given.
func admits(sess *Session, p gatePass) bool {
	return (!authRequired(sess) || p.auth) &&
		(!consentRequired(sess) || (p.consent && sess.Internal.Consent == ConsentAccepted))
}

// lockedNow reports a lockout in force: held until an agent unlocks, or
// until its time.
func lockedNow(in *SessionInternal, now time.Time) bool {
	return in.LockHeld || (in.LockedUntil != nil && now.Before(*in.LockedUntil))
}

// authState is the session's authentication as agents see it: locked
// while a lockout is in force, whoever verified before.
func authState(s *Session, now time.Time) string {
	if !authRequired(s) {
		return AuthNotRequired
	}
	if lockedNow(&s.Internal, now) {
		return AuthLocked
	}
	return s.Internal.Authentication
}

// lockedUntil is when a timed lockout ends (nil when none is in force,
// or when it lasts until an agent unlocks).
func lockedUntil(s *Session, now time.Time) *time.Time {
	if in := &s.Internal; !in.LockHeld && in.LockedUntil != nil && now.Before(*in.LockedUntil) {
		return in.LockedUntil
	}
	return nil
}

// browserGates is where one browser stands at the gates.
func browserGates(sess *Session, p gatePass, now time.Time) GateStatus {
	g := GateStatus{Authentication: AuthNotRequired, Consent: ConsentNotRequested}
	if authRequired(sess) {
		switch {
		case p.auth:
			g.Authentication = AuthVerified
		case lockedNow(&sess.Internal, now):
			g.Authentication, g.LockedUntil = AuthLocked, lockedUntil(sess, now)
		default:
			g.Authentication = AuthPending
		}
	}
	if consentRequired(sess) {
		switch {
		case sess.Internal.Consent == ConsentDeclined:
			g.Consent = ConsentDeclined
		case p.consent && sess.Internal.Consent == ConsentAccepted:
			g.Consent = ConsentAccepted
		default:
			g.Consent = ConsentPending
		}
	}
	return g
}

// lockMessage says in plain words when the customer may try again.
func lockMessage(sess *Session, now time.Time) error {
	if until := lockedUntil(sess, now); until != nil {
		mins := int(until.Sub(now).Round(time.Minute) / time.Minute)
		return fmt.Errorf("%w: too many wrong answers; try again in %d minutes", ErrRateLimited, max(mins, 1))
	}
	return fmt.Errorf("%w: too many wrong answers; please ask your agent to let you try again", ErrRateLimited)
}

// reserveSend bounds what one session sends its customer: one message
// per 30 s and perDay a day, so a link (even an expired one) cannot be
// used to flood them. times holds the sends of the last day; it is kept
// in the session record, so concurrent requests are counted exactly.
func reserveSend(times *[]time.Time, now time.Time, perDay int, noun string) error {
	recent := (*times)[:0]
	for _, t := range *times {
		if now.Sub(t) < 24*time.Hour {
			recent = append(recent, t)
		}
	}
	*times = recent
	switch {
	case len(recent) > 0 && now.Sub(recent[len(recent)-1]) < OTPEvery:
		return fmt.Errorf("%w: one was just sent; please wait 30 seconds before asking again", ErrRateLimited)
	case len(recent) >= perDay:
		return fmt.Errorf("%w: at most %d %s a day can be sent for this session; please contact your agent",
			ErrRateLimited, perDay, noun)
	}
	*times = append(recent, now)
	return nil
}

// networkKey is the client network an address counts toward: an IPv4
// address itself (also when written IPv4-mapped, ::ffff:a.b.c.d), an
// IPv6 address its /64, the block one subscriber gets, so that the 2^64
// addresses of one customer's network share one budget. What does not
// parse as an address counts as itself.
func networkKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

func otpCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
