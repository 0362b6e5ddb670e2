package rooms

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/notify"
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

// pass is what one browser proved at a session's gates. Its token is
// "v1.{browser}.{gates}.{mac}": browser is a random id minted at the
// browser's first passed gate, gates is "a" (authenticated) and/or "c"
// (consented), and the mac binds both to the session and link
// generation. The token lives only in that browser (an HttpOnly cookie),
// so a forwarded link must pass the gates again.
type pass struct {
	browser string
	auth    bool
	consent bool
}

func (p pass) gates() string {
	g := ""
	if p.auth {
		g += "a"
	}
	if p.consent {
		g += "c"
	}
	return g
}

func (s *Gates) passMAC(sess *Session, browser, gates string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "customer.v1.%s.%d.%s.%s", sess.ID, sess.Internal.LinkGen, browser, gates)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Gates) signPass(sess *Session, p pass) string {
	if p.browser == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		p.browser = base64.RawURLEncoding.EncodeToString(b)
	}
	return "v1." + p.browser + "." + p.gates() + "." + s.passMAC(sess, p.browser, p.gates())
}

// readPass checks a customer token in constant time; a missing, forged
// or revoked one (another session, an older link generation) proves
// nothing. Only the spelling signPass writes counts: gates "ca" or "aa"
// are not a pass the server gave.
func (s *Gates) readPass(sess *Session, token string) pass {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] == "" {
		return pass{}
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.passMAC(sess, parts[1], parts[2]))) {
		return pass{}
	}
	p := pass{browser: parts[1], auth: strings.Contains(parts[2], "a"), consent: strings.Contains(parts[2], "c")}
	if p.gates() != parts[2] {
		return pass{}
	}
	return p
}

func authRequired(s *Session) bool {
	return orDefault(s.Internal.Authentication, AuthNotRequired) != AuthNotRequired
}

func consentRequired(s *Session) bool {
	return orDefault(s.Internal.Consent, ConsentNotRequested) != ConsentNotRequested
}

// admits reports whether a browser's pass opens the room: every gate
// the session asks for passed by this browser, and consent still given.
func admits(sess *Session, p pass) bool {
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
func browserGates(sess *Session, p pass, now time.Time) GateStatus {
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

// CustomerAuth checks a customer's credential for the room and the
// customer API: the link, and, when the session has gates, a customer
// token from a browser that passed every one of them.
func (s *Gates) CustomerAuth(ctx context.Context, link, customerToken string) (*Session, LinkClaims, error) {
	sess, c, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, c, err
	}
	if !admits(sess, s.readPass(sess, customerToken)) {
		return nil, c, fmt.Errorf("%w: pass the session's checks first", ErrForbidden)
	}
	return sess, c, nil
}

// lockMessage says in plain words when the customer may try again.
func lockMessage(sess *Session, now time.Time) error {
	if until := lockedUntil(sess, now); until != nil {
		mins := int(until.Sub(now).Round(time.Minute) / time.Minute)
		return fmt.Errorf("%w: too many wrong answers; try again in %d minutes", ErrRateLimited, max(mins, 1))
	}
	return fmt.Errorf("%w: too many wrong answers; please ask your agent to let you try again", ErrRateLimited)
}

// SendOTP sends a fresh 6-digit code to the contact on file, to
// whichever browser asks: each browser must verify for itself.
func (s *Gates) SendOTP(ctx context.Context, link, ip string) (*NewLinkSent, error) {
	sess, _, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, err
	}
	_, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return nil, err
	}
	switch {
	case ts.CustomerAuthentication != "otp" || !authRequired(sess):
		return nil, fmt.Errorf("%w: this session does not use one-time codes", ErrInvalidState)
	case lockedNow(&sess.Internal, s.now()):
		return nil, lockMessage(sess, s.now())
	}
	if err := s.ipAllows(ctx, "otp", ip); err != nil {
		return nil, err
	}
	code, err := otpCode()
	if err != nil {
		return nil, err
	}
	now := s.now()
	expires := now.Add(OTPLifetime)
	if _, _, err := s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		if err := reserveSend(&cur.Internal.OTPSent, now, OTPsPerDay, "codes"); err != nil {
			return nil, err
		}
		cur.Internal.OTPHash, cur.Internal.OTPExpires = s.otpHash(cur.ID, code), &expires
		return nil, nil
	}); err != nil {
		return nil, err
	}
	s.ipCount(ctx, "otp", ip)
	return s.sendCode(ctx, sess, code)
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

// ipAllows bounds what one client network (networkKey) may have sent,
// across sessions, to PerIPPerHour an hour; kind names the message
// ("otp", "new-link").
func (s *Gates) ipAllows(ctx context.Context, kind, ip string) error {
	n, err := s.store.Count(ctx, kind+"-ip:"+networkKey(ip))
	if err != nil {
		return err
	}
	if n >= PerIPPerHour {
		return fmt.Errorf("%w: too many requests from your network; please try again in an hour", ErrRateLimited)
	}
	return nil
}

func (s *Gates) ipCount(ctx context.Context, kind, ip string) {
	if _, err := s.store.Hit(ctx, kind+"-ip:"+networkKey(ip), time.Hour); err != nil {
		s.logger(ctx).Warn().Err(err).Msg("per-network send limit not counted")
	}
}

func otpCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func (s *Gates) otpHash(sessionID, code string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "otp.%s.%s", sessionID, code)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sendCode delivers a code through the invitation's channel; the code is
// never logged.
func (s *Gates) sendCode(ctx context.Context, sess *Session, code string) (*NewLinkSent, error) {
	channel, to := "email", sess.Customer.Email
	if to == "" {
		channel, to = "sms", sess.Customer.Phone
	}
	msg := notify.Message{Channel: channel, To: to, SessionID: sess.ID, At: s.now(),
		Body: "Your Cohub code is " + code + ". It expires in 10 minutes."}
	if channel == "email" {
		msg.Subject = "Your Cohub code"
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SendTimeout)
	defer cancel()
	if err := s.sender.Send(sctx, msg); err != nil {
		s.logger(ctx).Warn().Str("error", notify.Scrub(err, to, msg.Body, code)).Str("session", sess.ID).
			Str("to", notify.Mask(to)).Msg("code not delivered")
		return nil, fmt.Errorf("%w: the code could not be delivered", ErrUnavailable)
	}
	return &NewLinkSent{Sent: true, Channel: channel, To: notify.Mask(to)}, nil
}

// GateReply is the customer's view after a gate, with this browser's
// customer token once it passed every gate.
type GateReply struct {
	*CustomerView
	CustomerToken string `json:"customer_token,omitempty"`
	// token is this browser's pass so far, to keep in its cookie even
	// before every gate is passed.
	token string
}

// Token is the pass to keep in this browser (its cookie).
func (g *GateReply) Token() string { return g.token }

// Verify checks a one-time code or the session PIN. Every call checks its
// own answer, whatever another browser did: a wrong one counts toward
// the lockout, and five in a row lock the session's gate for 15
// minutes, then an hour, then until an agent unlocks it.
func (s *Gates) Verify(ctx context.Context, link, customerToken, code, pin string) (*GateReply, error) {
	sess, c, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, err
	}
	_, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return nil, err
	}
	var verdict error
	sess, _, err = s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		verdict = nil
		now := s.now()
		in := &cur.Internal
		if !authRequired(cur) {
			return nil, fmt.Errorf("%w: this session asks for no code", ErrInvalidState)
		}
		if lockedNow(in, now) {
			return nil, lockMessage(cur, now)
		}
		if in.LockedUntil != nil { // a timed lockout ran out: five more tries
			in.LockedUntil, in.AuthFails = nil, 0
		}
		if s.answerOK(cur, ts.CustomerAuthentication, code, pin, now) {
			first := in.Authentication != AuthVerified
			in.Authentication, in.AuthFails, in.Lockouts, in.OTPHash, in.OTPExpires = AuthVerified, 0, 0, "", nil
			if !first {
				return nil, nil
			}
			return s.gateEvent(cur, Event{Type: EventAuthChanged, Auth: AuthVerified}), nil
		}
		in.AuthFails++
		if in.AuthFails < MaxAuthFail {
			verdict = fmt.Errorf("%w: that is not right; %d tries left", ErrBadCredential, MaxAuthFail-in.AuthFails)
			return nil, nil
		}
		s.lock(in, now)
		verdict = lockMessage(cur, now)
		return s.gateEvent(cur, Event{Type: EventAuthChanged, Auth: AuthLocked}), nil
	})
	if err != nil {
		return nil, err
	}
	if verdict != nil {
		return nil, verdict
	}
	p := s.readPass(sess, customerToken)
	p.auth = true
	return s.gateReply(ctx, sess, c, p)
}

// lock starts the next lockout of the escalation.
func (s *Gates) lock(in *SessionInternal, now time.Time) {
	in.Lockouts++
	in.AuthFails = 0
	if d := lockFor(in.Lockouts); d > 0 {
		until := now.Add(d)
		in.LockedUntil = &until
		return
	}
	in.LockHeld = true
}

// answerOK compares in constant time (HMAC equality, bcrypt).
func (s *Gates) answerOK(cur *Session, mode, code, pin string, now time.Time) bool {
	in := cur.Internal
	switch mode {
	case "otp":
		return code != "" && in.OTPHash != "" && in.OTPExpires != nil && now.Before(*in.OTPExpires) &&
			hmac.Equal([]byte(s.otpHash(cur.ID, code)), []byte(in.OTPHash))
	case "pin":
		return pin != "" && len(in.PINHash) > 0 && bcrypt.CompareHashAndPassword(in.PINHash, []byte(pin)) == nil
	}
	return false
}

// gateEvent marks the session updated for its agent and returns the
// event to log.
func (s *Gates) gateEvent(cur *Session, e Event) []Event {
	now := s.now()
	cur.Updated, cur.UpdatedAt = true, now
	e.At, e.From = now, &Actor{Role: "customer", Name: cur.Customer.Name}
	return []Event{e}
}

// Consent records the customer's answer; a declined customer may come
// back and accept. A browser must have passed authentication itself
// before its consent counts.
func (s *Gates) Consent(ctx context.Context, link, customerToken string, accept bool) (*GateReply, error) {
	sess, c, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, err
	}
	p := s.readPass(sess, customerToken)
	answer := ConsentDeclined
	if accept {
		answer = ConsentAccepted
	}
	sess, _, err = s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		switch {
		case !consentRequired(cur):
			return nil, fmt.Errorf("%w: this session asks for no consent", ErrInvalidState)
		case authRequired(cur) && !p.auth:
			return nil, fmt.Errorf("%w: verify first", ErrForbidden)
		case cur.Internal.Consent == answer:
			return nil, nil
		}
		cur.Internal.Consent = answer
		return s.gateEvent(cur, Event{Type: EventConsentChanged, Consent: answer}), nil
	})
	if err != nil {
		return nil, err
	}
	p.consent = accept
	return s.gateReply(ctx, sess, c, p)
}

func (s *Gates) gateReply(ctx context.Context, sess *Session, c LinkClaims, p pass) (*GateReply, error) {
	r := &GateReply{token: s.signPass(sess, p)}
	if admits(sess, p) {
		r.CustomerToken = r.token
	}
	v, err := s.customerView(ctx, sess, c, p)
	if err != nil {
		return nil, err
	}
	r.CustomerView = v
	return r, nil
}

// UnlockGate lets the customer try again after a lockout: an agent's
// action, logged. The escalation is kept, so five more wrong answers
// lock the gate until an agent unlocks it again.
func (s *Gates) UnlockGate(ctx context.Context, a *Agent, id string) (*Session, error) {
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		in := &cur.Internal
		if !lockedNow(in, s.now()) {
			return nil, fmt.Errorf("%w: the customer is not locked out", ErrInvalidState)
		}
		in.LockHeld, in.LockedUntil, in.AuthFails = false, nil, 0
		in.Lockouts = max(in.Lockouts, 2)
		return []Event{{Type: EventAuthChanged, At: s.now(), From: agentActor(a), Auth: in.Authentication}}, nil
	})
	if err != nil {
		return nil, err
	}
	s.withIndicators(ctx, sess)
	return sess, nil
}
