package rooms

import (
	"context"
	"crypto/hmac"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/notify"
)

// CustomerAuth checks a customer's credential for the room and the
// customer API: the link, and, when the session has gates, a customer
// token from a browser that passed every one of them.
func (s *GateService) CustomerAuth(ctx context.Context, link, customerToken string) (*Session, LinkClaims, error) {
	sess, c, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, c, err
	}
	if !admits(sess, s.readPass(sess, customerToken)) {
		return nil, c, fmt.Errorf("%w: pass the session's checks first", ErrForbidden)
	}
	return sess, c, nil
}

// SendOTP sends a fresh 6-digit code to the contact on file, to
// whichever browser asks: each browser must verify for itself.
func (s *GateService) SendOTP(ctx context.Context, link, ip string) (*NewLinkSent, error) {
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

// sendCode delivers a code through the invitation's channel; the code is
// never logged.
func (s *GateService) sendCode(ctx context.Context, sess *Session, code string) (*NewLinkSent, error) {
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

// Verify checks a one-time code or the session PIN. Every call checks its
// own answer, whatever another browser did: a wrong one counts toward
// the lockout, and five in a row lock the session's gate for 15
// minutes, then an hour, then until an agent unlocks it.
func (s *GateService) Verify(ctx context.Context, link, customerToken, code, pin string) (*GateReply, error) {
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
			return s.gateEvent(cur, Event{Type: EventAuthChanged, Auth: AuthVerified, Method: ts.CustomerAuthentication}), nil
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
func (s *GateService) lock(in *SessionInternal, now time.Time) {
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
func (s *GateService) answerOK(cur *Session, mode, code, pin string, now time.Time) bool {
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
func (s *GateService) gateEvent(cur *Session, e Event) []Event {
	now := s.now()
	cur.Updated, cur.UpdatedAt = true, now
	e.At, e.From = now, &Actor{Role: "customer", Name: cur.Customer.Name}
	return []Event{e}
}

// GiveConsent records the customer's answer; a declined customer may come
// back and accept. A browser must have passed authentication itself
// before its consent counts.
func (s *GateService) GiveConsent(ctx context.Context, link, customerToken string, accept bool) (*GateReply, error) {
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

func (s *GateService) gateReply(ctx context.Context, sess *Session, c LinkClaims, p gatePass) (*GateReply, error) {
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
func (s *GateService) UnlockGate(ctx context.Context, a *Agent, id string) (*Session, error) {
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
