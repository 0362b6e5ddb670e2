package rooms

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

func (s *GateService) passMAC(sess *Session, browser, gates string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "customer.v1.%s.%d.%s.%s", sess.ID, sess.Internal.LinkGen, browser, gates)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *GateService) signPass(sess *Session, p gatePass) string {
	if p.browser == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		p.browser = base64.RawURLEncoding.EncodeToString(b)
	}
	return "v1." + p.browser + "." + p.encodeGates() + "." + s.passMAC(sess, p.browser, p.encodeGates())
}

// readPass checks a customer token in constant time; a missing, forged
// or revoked one (another session, an older link generation) proves
// nothing. Only the spelling signPass writes counts: gates "ca" or "aa"
// are not a pass the server gave.
func (s *GateService) readPass(sess *Session, token string) gatePass {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] == "" {
		return gatePass{}
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.passMAC(sess, parts[1], parts[2]))) {
		return gatePass{}
	}
	p := gatePass{browser: parts[1], auth: strings.Contains(parts[2], "a"), consent: strings.Contains(parts[2], "c")}
	if p.encodeGates() != parts[2] {
		return gatePass{}
	}
	return p
}

// ipAllows bounds what one client network (networkKey) may have sent,
// across sessions, to PerIPPerHour an hour; kind names the message
// ("otp", "new-link").
func (s *GateService) ipAllows(ctx context.Context, kind, ip string) error {
	n, err := s.store.Count(ctx, kind+"-ip:"+networkKey(ip))
	if err != nil {
		return err
	}
	if n >= PerIPPerHour {
		return fmt.Errorf("%w: too many requests from your network; please try again in an hour", ErrRateLimited)
	}
	return nil
}

func (s *GateService) ipCount(ctx context.Context, kind, ip string) {
	if _, err := s.store.Hit(ctx, kind+"-ip:"+networkKey(ip), time.Hour); err != nil {
		s.logger(ctx).Warn().Err(err).Msg("per-network send limit not counted")
	}
}

func (s *GateService) otpHash(sessionID, code string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "otp.%s.%s", sessionID, code)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
