package rooms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cohub/cohub/i18n"
	"github.com/cohub/cohub/notify"
)

// Follow-up statuses on their events.
const (
	FollowupSent   = "sent"
	FollowupFailed = "failed"
)

// contactOf is where the session's messages go: email, else SMS.
func contactOf(sess *Session) (channel, to string) {
	if sess.Customer.Email != "" {
		return "email", sess.Customer.Email
	}
	return "sms", sess.Customer.Phone
}

// customerLanguage is the language of what the server shows a
// customer outside their page (the stop page): the session's, else its
// settings team's, else English.
func customerLanguage(sess *Session, ts TeamSettings) string {
	return i18n.Or(sessionLanguage(sess, ts), i18n.Default)
}

// catalogKinds are the message kinds (rooms/language.go) per follow-up.
var catalogKinds = map[string]string{kindReminder: "reminder", kindNotice: "notice", kindExpiry: "expiry"}

// deliverFollowup sends one follow-up through the session's channel and
// says how it went. Its link to the session lasts no longer than the
// latest invitation's: a reminder never extends the customer's access.
func (s *FollowupService) deliverFollowup(ctx context.Context, sess *Session, set Settings, ts TeamSettings, kind string) (channel, status string) {
	channel, to := contactOf(sess)
	link := s.linkUntil(sess, *sess.LinkExpiresAt).URL
	stop := s.StopURL(sess)
	agentName := ""
	if a, err := s.store.Agent(ctx, sess.AgentID); err == nil {
		agentName = a.Name
	}
	when := sess.LinkExpiresAt.In(windowZone(sess, set.Followups.Window)).Format("2006-01-02 15:04 MST")
	t := messageFor(sess, ts, catalogKinds[kind]).fill(strings.NewReplacer("{{stop}}", stop, "{{when}}", when))
	m := renderMessage(sess, t, channel, to, notify.Vars{Link: link, Agent: agentName, Customer: sess.Customer.Name})
	m.At = s.now()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SendTimeout)
	defer cancel()
	l := s.logger(ctx)
	if err := s.sender.Send(sctx, m); err != nil {
		l.Warn().Str("error", notify.Scrub(err, to, m.Body, link, stop)).Str("session", sess.ID).Str("kind", kind).
			Str("channel", channel).Str("to", notify.Mask(to)).Msg("follow-up failed")
		return channel, FollowupFailed
	}
	l.Info().Str("session", sess.ID).Str("kind", kind).Str("channel", channel).Str("to", notify.Mask(to)).Msg("follow-up sent")
	return channel, FollowupSent
}

// stopKey signs stop links: its own use of the link secret, so a stop
// token never opens a session and a session link never stops reminders.
func stopKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cohub stop reminders v1"))
	return m.Sum(nil)
}

// StopURL is the session's "stop reminders" link: "ID.GEN.SIG", for the
// current contact (a re-engage's new contact gets its own).
func (s *core) StopURL(sess *Session) string {
	body := sess.ID + "." + strconv.Itoa(sess.Internal.LinkGen)
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/stop/" + body + "." + linkMAC(stopKey(s.cfg.Secret), body)
}

// stopSession checks a stop token and loads its session.
func (s *FollowupService) stopSession(ctx context.Context, token string) (*Session, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || len(token) > 200 {
		return nil, ErrLinkInvalid
	}
	body, sig := token[:i], token[i+1:]
	if !hmac.Equal([]byte(sig), []byte(linkMAC(stopKey(s.cfg.Secret), body))) {
		return nil, ErrLinkInvalid
	}
	id, genText, _ := strings.Cut(body, ".")
	sess, err := s.store.Session(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, err
	}
	if genText != strconv.Itoa(sess.Internal.LinkGen) {
		return nil, ErrLinkRevoked
	}
	return sess, nil
}

// StopPage is what the stop page needs: the customer's language and
// whether reminders are already stopped.
type StopPage struct {
	Language string
	Stopped  bool
}

// StopInfo reads a stop link without changing anything (a mail
// scanner's prefetch of the link must not opt the customer out).
func (s *FollowupService) StopInfo(ctx context.Context, token string) (StopPage, error) {
	sess, err := s.stopSession(ctx, token)
	if err != nil {
		return StopPage{Language: i18n.Default}, err
	}
	_, ts, _ := s.effective(ctx, sess.SettingsTeamID)
	return StopPage{Language: customerLanguage(sess, ts), Stopped: sess.Internal.Followups.StoppedAt != nil}, nil
}

// StopReminders opts the customer out of every follow-up of the
// session, through their stop link; logged in the room once.
func (s *FollowupService) StopReminders(ctx context.Context, token string) (StopPage, error) {
	sess, err := s.stopSession(ctx, token)
	if err != nil {
		return StopPage{Language: i18n.Default}, err
	}
	sess, _, err = s.updateFrom(ctx, sess, sess.ID, func(cur *Session) ([]Event, error) {
		if cur.Internal.Followups.StoppedAt != nil {
			return nil, nil
		}
		now := s.now()
		cur.Internal.Followups.StoppedAt = &now
		return []Event{{Type: EventRemindersStopped, At: now, From: &Actor{Role: "customer", Name: cur.Customer.Name}}}, nil
	})
	if err != nil {
		return StopPage{Language: i18n.Default}, err
	}
	s.log.Info().Str("session", sess.ID).Msg("customer stopped reminders")
	_, ts, _ := s.effective(ctx, sess.SettingsTeamID)
	return StopPage{Language: customerLanguage(sess, ts), Stopped: true}, nil
}

// PauseReminders holds a session's reminders and expiry warnings until
// the agent resumes them.
func (s *FollowupService) PauseReminders(ctx context.Context, a *Agent, id string) (*Session, error) {
	return s.setPaused(ctx, a, id, true)
}

// ResumeReminders lets a session's reminders go again; ones missed
// while paused are not made up for beyond the next.
func (s *FollowupService) ResumeReminders(ctx context.Context, a *Agent, id string) (*Session, error) {
	return s.setPaused(ctx, a, id, false)
}

func (s *FollowupService) setPaused(ctx context.Context, a *Agent, id string, paused bool) (*Session, error) {
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		if cur.State == StateEnded {
			return nil, fmt.Errorf("%w: the session has ended", ErrInvalidState)
		}
		if cur.Internal.Followups.Paused == paused {
			return nil, fmt.Errorf("%w: reminders are already %s", ErrInvalidState, map[bool]string{true: "paused", false: "running"}[paused])
		}
		cur.Internal.Followups.Paused = paused
		typ := EventRemindersResumed
		if paused {
			typ = EventRemindersPaused
		}
		return []Event{{Type: typ, At: s.now(), From: agentActor(a)}}, nil
	})
	if err != nil {
		return nil, err
	}
	s.withIndicators(ctx, sess)
	s.showFollowups(ctx, sess, !paused)
	return sess, nil
}

// SetTimeZone keeps the time zone the customer's page reports (an IANA
// name, as Intl gives it): the send window is then read in it.
func (s *GateService) SetTimeZone(ctx context.Context, link, name string) error {
	if _, ok := zone(name); !ok {
		return &ValidationError{Fields: map[string]string{"time_zone": "must be a time zone such as Europe/Paris"}}
	}
	sess, _, err := s.CheckLink(ctx, link)
	if err != nil {
		return err
	}
	if sess.Internal.Followups.TimeZone == name {
		return nil
	}
	sess, _, err = s.updateFrom(ctx, sess, sess.ID, func(cur *Session) ([]Event, error) {
		cur.Internal.Followups.TimeZone = name
		return nil, nil
	})
	if err == nil {
		s.nudge(ctx, sess)
	}
	return err
}

// linkExpiry notes the expiry of the link just given to the customer.
func linkExpiry(cur *Session, exp *time.Time) {
	if exp != nil {
		t := *exp
		cur.LinkExpiresAt = &t
	}
}
