package rooms

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/notify"
)

// Gate limits (DESIGN.md §5 "Customer gates").
const (
	OTPEvery    = 30 * time.Second
	OTPLifetime = 10 * time.Minute
	MaxAuthFail = 5
	LockFor     = 15 * time.Minute
)

// CustomerToken binds passed gates to a session and link generation: a
// forwarded link alone does not skip them, and a re-engage revokes it.
func CustomerToken(secret []byte, sessionID string, gen int) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "customer.%s.%d", sessionID, gen)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// gated reports whether a session asks anything of the customer.
func gated(s *Session) bool {
	return orDefault(s.Internal.Authentication, AuthNotRequired) != AuthNotRequired ||
		orDefault(s.Internal.Consent, ConsentNotRequested) != ConsentNotRequested
}

// tokenOK checks a customer token in constant time.
func (s *Service) tokenOK(sess *Session, token string) bool {
	want := CustomerToken(s.cfg.Secret, sess.ID, sess.Internal.LinkGen)
	return hmac.Equal([]byte(token), []byte(want))
}

// CustomerAuth checks a customer's credential for the room and the
// customer API: the link, every gate passed, and the customer token the
// gates gave when there are any.
func (s *Service) CustomerAuth(ctx context.Context, link, customerToken string) (*Session, LinkClaims, error) {
	sess, c, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, c, err
	}
	Unlock(sess, s.now())
	if !gatesOf(sess).Passed() || (gated(sess) && !s.tokenOK(sess, customerToken)) {
		return nil, c, fmt.Errorf("%w: pass the session's checks first", ErrForbidden)
	}
	return sess, c, nil
}

// Unlock shows a lock whose time ran out as pending again.
func Unlock(s *Session, now time.Time) {
	in := &s.Internal
	if in.Authentication == AuthLocked && in.LockedUntil != nil && !now.Before(*in.LockedUntil) {
		in.Authentication, in.AuthFails, in.LockedUntil = AuthPending, 0, nil
	}
}

func gatesOf(s *Session) Gates {
	return Gates{
		Authentication: orDefault(s.Internal.Authentication, AuthNotRequired),
		Consent:        orDefault(s.Internal.Consent, ConsentNotRequested),
	}
}

// SendOTP sends a fresh 6-digit code to the contact on file.
func (s *Service) SendOTP(ctx context.Context, link string) (*NewLinkSent, error) {
	sess, _, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, err
	}
	_, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return nil, err
	}
	Unlock(sess, s.now())
	switch {
	case ts.CustomerAuthentication != "otp":
		return nil, fmt.Errorf("%w: this session does not use one-time codes", ErrInvalidState)
	case sess.Internal.Authentication == AuthVerified:
		return nil, fmt.Errorf("%w: already verified", ErrInvalidState)
	case sess.Internal.Authentication == AuthLocked:
		return nil, ErrRateLimited
	}
	if n, err := s.store.Hit(ctx, "otp:"+sess.ID, OTPEvery); err != nil {
		return nil, err
	} else if n > 1 {
		return nil, ErrRateLimited
	}
	code, err := otpCode()
	if err != nil {
		return nil, err
	}
	expires := s.now().Add(OTPLifetime)
	if _, _, err := s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		cur.Internal.OTPHash, cur.Internal.OTPExpires = s.otpHash(cur.ID, code), &expires
		return nil, nil
	}); err != nil {
		return nil, err
	}
	return s.sendCode(ctx, sess, code)
}

func otpCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func (s *Service) otpHash(sessionID, code string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "otp.%s.%s", sessionID, code)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sendCode delivers a code through the invitation's channel; the code is
// never logged.
func (s *Service) sendCode(ctx context.Context, sess *Session, code string) (*NewLinkSent, error) {
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
		s.logger(ctx).Warn().Err(err).Str("session", sess.ID).Str("to", notify.Mask(to)).Msg("code not delivered")
		return nil, fmt.Errorf("%w: the code could not be delivered", ErrUnavailable)
	}
	return &NewLinkSent{Sent: true, Channel: channel, To: notify.Mask(to)}, nil
}

// GateReply is the customer's view after a gate, with the customer
// token once every gate is passed.
type GateReply struct {
	*CustomerView
	CustomerToken string `json:"customer_token,omitempty"`
}

// Verify checks a one-time code or the session PIN. Five wrong answers
// lock customer access for 15 minutes.
func (s *Service) Verify(ctx context.Context, link, code, pin string) (*GateReply, error) {
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
		Unlock(cur, now)
		in := &cur.Internal
		switch {
		case in.Authentication == AuthNotRequired || in.Authentication == "":
			return nil, fmt.Errorf("%w: this session asks for no code", ErrInvalidState)
		case in.Authentication == AuthVerified:
			return nil, nil
		case in.Authentication == AuthLocked:
			return nil, ErrRateLimited
		}
		if s.answerOK(cur, ts.CustomerAuthentication, code, pin, now) {
			in.Authentication, in.AuthFails, in.OTPHash, in.OTPExpires = AuthVerified, 0, "", nil
			return s.gateEvent(cur, Event{Type: EventAuthChanged, Auth: AuthVerified}), nil
		}
		in.AuthFails++
		if in.AuthFails < MaxAuthFail {
			verdict = fmt.Errorf("%w: that is not right; %d tries left", ErrBadCredential, MaxAuthFail-in.AuthFails)
			return nil, nil
		}
		until := now.Add(LockFor)
		in.Authentication, in.LockedUntil = AuthLocked, &until
		verdict = fmt.Errorf("%w: too many wrong answers; try again in 15 minutes", ErrRateLimited)
		return s.gateEvent(cur, Event{Type: EventAuthChanged, Auth: AuthLocked}), nil
	})
	if err != nil {
		return nil, err
	}
	if verdict != nil {
		return nil, verdict
	}
	return s.gateReply(ctx, sess, c)
}

// answerOK compares in constant time (HMAC equality, bcrypt).
func (s *Service) answerOK(cur *Session, mode, code, pin string, now time.Time) bool {
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
func (s *Service) gateEvent(cur *Session, e Event) []Event {
	now := s.now()
	cur.Updated, cur.UpdatedAt = true, now
	e.At, e.From = now, &Actor{Role: "customer", Name: cur.Customer.Name}
	return []Event{e}
}

// Consent records the customer's answer; a declined customer may come
// back and accept.
func (s *Service) Consent(ctx context.Context, link string, accept bool) (*GateReply, error) {
	sess, c, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, err
	}
	answer := ConsentDeclined
	if accept {
		answer = ConsentAccepted
	}
	sess, _, err = s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		Unlock(cur, s.now())
		g := gatesOf(cur)
		switch {
		case g.Consent == ConsentNotRequested:
			return nil, fmt.Errorf("%w: this session asks for no consent", ErrInvalidState)
		case g.Authentication != AuthNotRequired && g.Authentication != AuthVerified:
			return nil, fmt.Errorf("%w: verify first", ErrForbidden)
		case g.Consent == answer:
			return nil, nil
		}
		cur.Internal.Consent = answer
		return s.gateEvent(cur, Event{Type: EventConsentChanged, Consent: answer}), nil
	})
	if err != nil {
		return nil, err
	}
	return s.gateReply(ctx, sess, c)
}

func (s *Service) gateReply(ctx context.Context, sess *Session, c LinkClaims) (*GateReply, error) {
	r := &GateReply{}
	var token string
	if gatesOf(sess).Passed() {
		token = CustomerToken(s.cfg.Secret, sess.ID, sess.Internal.LinkGen)
		r.CustomerToken = token
	}
	v, err := s.customerView(ctx, sess, c, token)
	if err != nil {
		return nil, err
	}
	r.CustomerView = v
	return r, nil
}
