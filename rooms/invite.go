package rooms

import (
	"context"
	"strings"
	"time"

	"github.com/cohub/cohub/notify"
)

// sendInvitation sends a fresh link to the customer's contact and records
// the outcome on the session, so a failed delivery is visible.
func (s *SessionService) sendInvitation(ctx context.Context, sess *Session, a *Agent) (*Session, error) {
	inv, exp := s.deliver(ctx, sess, a.Name)
	sess, _, err := s.updateFrom(ctx, sess, sess.ID, func(cur *Session) ([]Event, error) {
		cur.Invitations = append(cur.Invitations, inv)
		linkExpiry(cur, exp)
		cur.UpdatedAt = s.now()
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	s.announceInvitation(ctx, sess, inv)
	s.withIndicators(ctx, sess)
	s.showFollowups(ctx, sess, true)
	return sess, nil
}

// announceInvitation tells of an invitation sent or failed (one the org
// sends itself is neither).
func (s *core) announceInvitation(ctx context.Context, sess *Session, inv Invitation) {
	if inv.Status != InviteSkipped {
		s.announce(ctx, AnnounceInvitation, sess, &inv)
	}
}

// deliver sends one invitation and says how it went, and when the link
// it sent expires (nil when none went).
func (s *core) deliver(ctx context.Context, sess *Session, agentName string) (Invitation, *time.Time) {
	channel, to := contactOf(sess)
	inv := Invitation{Channel: channel, To: to, At: s.now()}
	set, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return failedInvite(inv, "settings unavailable"), nil
	}
	if set.InvitationMode == InviteExternal {
		inv.Status = InviteSkipped
		return inv, nil
	}
	link := s.signedLink(sess, set)
	msg := renderMessage(sess, messageFor(sess, ts, "invitation"), channel, to, notify.Vars{
		Link: link.URL, Agent: agentName, Customer: sess.Customer.Name})
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SendTimeout)
	defer cancel()
	if err := s.sender.Send(sctx, msg); err != nil {
		s.logger(ctx).Warn().Str("error", notify.Scrub(err, to, msg.Body, link.URL, link.Token)).Str("session", sess.ID).Str("channel", channel).
			Str("to", notify.Mask(to)).Msg("invitation failed")
		return failedInvite(inv, "delivery failed"), nil
	}
	s.logger(ctx).Info().Str("session", sess.ID).Str("channel", channel).Str("to", notify.Mask(to)).Msg("invitation sent")
	inv.Status = InviteSent
	return inv, &link.ExpiresAt
}

func failedInvite(inv Invitation, why string) Invitation {
	inv.Status, inv.Error = InviteFailed, why
	return inv
}

// renderMessage is a message to the customer from its texts: the
// invitation, and each follow-up.
func renderMessage(sess *Session, t Templates, channel, to string, v notify.Vars) notify.Message {
	m := notify.Message{Channel: channel, To: to, SessionID: sess.ID, At: time.Now().UTC()}
	if channel == "email" {
		m.Subject = notify.RenderSubject(t.EmailSubject, v)
		m.Body = notify.Render(t.EmailBody, v)
	} else {
		m.Body = notify.Render(t.SMSBody, v)
	}
	return m
}

// signedLink signs a link of the session's current generation that lasts
// the customer access duration of its settings.
func (s *core) signedLink(sess *Session, set Settings) Link {
	return s.linkUntil(sess, s.now().Add(set.CustomerAccessDuration.Std()).Truncate(time.Second))
}

// linkUntil signs a link of the session's current generation that
// expires at exp.
func (s *core) linkUntil(sess *Session, exp time.Time) Link {
	tok := signLink(s.cfg.Secret, LinkClaims{SessionID: sess.ID, Gen: sess.Internal.LinkGen, Expires: exp})
	return Link{URL: strings.TrimRight(s.cfg.PublicURL, "/") + "/c/" + tok, ExpiresAt: exp, Token: tok}
}
