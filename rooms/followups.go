package rooms

import (
	"context"
	"errors"
	"time"
)

// FollowupService sends what brings a customer back: reminders, a
// notice of a new message while they are away, a warning before their
// link expires. Config.Followups wakes it per session.
type FollowupService struct {
	*core
}

// FollowupState is what was sent to bring a session's customer back,
// kept with the session: each follow-up is decided from it, so a wake
// at any time, on any node, finds the same answer.
type FollowupState struct {
	// Reminders counts the reminders sent to the current contact (a
	// re-engage starts afresh); LastReminderAt is the latest.
	Reminders      int        `json:"reminders,omitempty"`
	LastReminderAt *time.Time `json:"last_reminder_at,omitempty"`
	// Paused: the agent paused reminders and expiry warnings.
	Paused bool `json:"paused,omitempty"`
	// StoppedAt: the customer asked for no more (the stop link).
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	// WarnedExpiry is the link expiry the last warning was about: a new
	// link (a later expiry) may be warned about again.
	WarnedExpiry *time.Time `json:"warned_expiry,omitempty"`
	// NoticeSeq is the last room event an away notice covered.
	NoticeSeq int64      `json:"notice_seq,omitempty"`
	NoticeAt  *time.Time `json:"notice_at,omitempty"`
	// TimeZone is the customer's own (their page reports it).
	TimeZone string `json:"time_zone,omitempty"`
}

// FollowupView is where a session's follow-ups stand, for its agent.
type FollowupView struct {
	Reminders ReminderView `json:"reminders"`
	// TimeZone is the zone the send window is read in: the customer's
	// when their page reported it, else the settings'.
	TimeZone string `json:"time_zone"`
}

// ReminderView is where a session's reminders stand.
type ReminderView struct {
	// Status is off (settings), scheduled, paused (by the agent),
	// stopped (by the customer) or done (nothing left to remind of,
	// all sent, the session ended, the link expired).
	Status string     `json:"status"`
	Sent   int        `json:"sent"`
	Max    int        `json:"max"`
	NextAt *time.Time `json:"next_at,omitempty"`
}

// Reminder statuses.
const (
	RemindersOff       = "off"
	RemindersScheduled = "scheduled"
	RemindersPaused    = "paused"
	RemindersStopped   = "stopped"
	RemindersDone      = "done"
)

// Follow-up kinds: the event each logs.
const (
	kindReminder = EventReminder
	kindNotice   = EventAwayNotice
	kindExpiry   = EventExpiryWarning
)

// due is the next follow-up of a session and when it may go; seq and
// msgAt name the agent message an away notice is about.
type due struct {
	kind  string
	at    time.Time
	seq   int64
	msgAt time.Time
}

func (d due) none() bool { return d.at.IsZero() }

// sooner is the earlier of two follow-ups (none counts as never).
func sooner(a, b due) due {
	if a.none() || (!b.none() && b.at.Before(a.at)) {
		return b
	}
	return a
}

var errNotDue = errors.New("follow-up no longer due")

// Wake sends what is due of session id's follow-ups and says when it
// should wake next (zero: nothing is left to schedule). Each follow-up
// is committed to the session before it is sent, so two nodes waking
// the same session send it once: the second's commit finds it recorded.
// A node that dies between the commit and the send loses that one
// follow-up rather than ever sending it twice.
func (s *FollowupService) Wake(ctx context.Context, id string) (time.Time, error) {
	sess, err := s.store.Session(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	set, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return time.Time{}, err
	}
	now := s.now()
	d, err := s.nextDue(ctx, sess, set, now)
	if err != nil || d.none() || d.at.After(now) {
		return d.at, err
	}
	if sess, err = s.sendDue(ctx, sess, set, ts, d); err != nil {
		return time.Time{}, err
	}
	d, err = s.nextDue(ctx, sess, set, s.now())
	return d.at, err
}

// nextDue is the session's earliest follow-up: the scheduled ones from
// its state, and an away notice, which needs the room log and presence.
func (s *core) nextDue(ctx context.Context, sess *Session, set Settings, now time.Time) (due, error) {
	d := plannedDue(sess, set, now)
	n, err := s.noticeDue(ctx, sess, set)
	return sooner(d, n), err
}

// plannedDue is the earliest reminder or expiry warning the session's
// state and settings allow (an expiry warning first when both are due).
func plannedDue(sess *Session, set Settings, now time.Time) due {
	if remindStop(sess, set, now) != "" {
		return due{}
	}
	loc := windowZone(sess, set.Followups.Window)
	return sooner(expiryDue(sess, set.Followups, loc), reminderDue(sess, set.Followups, loc))
}

// remindStop says why no reminder or expiry warning may go now: a
// reminder status, "" when they may.
func remindStop(sess *Session, set Settings, now time.Time) string {
	f := sess.Internal.Followups
	switch {
	case set.InvitationMode != InviteBuiltin || !channelOn(sess, set):
		return RemindersOff
	case f.StoppedAt != nil:
		return RemindersStopped
	case f.Paused:
		return RemindersPaused
	case sess.State != StateActive || !hasPending(sess.Tasks) || lastInvited(sess).IsZero():
		return RemindersDone
	case sess.LinkExpiresAt == nil || !now.Before(*sess.LinkExpiresAt):
		return RemindersDone
	}
	return ""
}

// channelOn: the customer's contact can be written to.
func channelOn(sess *Session, set Settings) bool {
	channel, to := contactOf(sess)
	return to != "" && (channel == "email" || set.SMSEnabled)
}

func hasPending(tasks []Task) bool {
	for _, t := range tasks {
		if t.Status == TaskPending {
			return true
		}
	}
	return false
}

// lastInvited is when the latest invitation that went out was sent.
func lastInvited(sess *Session) time.Time {
	for i := len(sess.Invitations) - 1; i >= 0; i-- {
		if sess.Invitations[i].Status == InviteSent {
			return sess.Invitations[i].At
		}
	}
	return time.Time{}
}

// reminderDue: the first FirstAfter the latest invitation, each next
// Every after the last, inside the window, before the link expires.
func reminderDue(sess *Session, fs FollowupSettings, loc *time.Location) due {
	r, f := fs.Reminders, sess.Internal.Followups
	if !r.Enabled || f.Reminders >= r.Max {
		return due{}
	}
	base := lastInvited(sess).Add(r.FirstAfter.Std())
	if f.LastReminderAt != nil {
		if next := f.LastReminderAt.Add(r.Every.Std()); next.After(base) {
			base = next
		}
	}
	return beforeExpiry(sess, due{kind: kindReminder, at: fs.Window.NextIn(base, loc)})
}

// expiryDue: Before the link expires, inside the window, once per
// expiry; none when the link never lived longer than that (its
// invitation came inside the warning's time).
func expiryDue(sess *Session, fs FollowupSettings, loc *time.Location) due {
	e, f := fs.ExpiryWarning, sess.Internal.Followups
	exp := sess.LinkExpiresAt
	if !e.Enabled || (f.WarnedExpiry != nil && f.WarnedExpiry.Equal(*exp)) {
		return due{}
	}
	warnAt := exp.Add(-e.Before.Std())
	if warnAt.Before(lastInvited(sess)) {
		return due{}
	}
	return beforeExpiry(sess, due{kind: kindExpiry, at: fs.Window.NextIn(warnAt, loc)})
}

// beforeExpiry drops a follow-up the window puts after the link's end:
// its link would not work.
func beforeExpiry(sess *Session, d due) due {
	if d.none() || !d.at.Before(*sess.LinkExpiresAt) {
		return due{}
	}
	return d
}

// windowZone is the customer's time zone when known, else the window's.
func windowZone(sess *Session, w SendWindow) *time.Location {
	if loc, ok := zone(sess.Internal.Followups.TimeZone); ok {
		return loc
	}
	if loc, ok := zone(w.TimeZone); ok {
		return loc
	}
	return time.UTC
}

// noticeDue is the away notice of the first agent message the customer
// has not seen (logged after they were last connected and after the
// last notice), After it, inside the window; none while the customer
// is connected. Before they ever joined the reminders speak for Cohub.
func (s *core) noticeDue(ctx context.Context, sess *Session, set Settings) (due, error) {
	n, f := set.Followups.AwayNotice, sess.Internal.Followups
	if !n.Enabled || set.InvitationMode != InviteBuiltin || !channelOn(sess, set) || sess.State != StateActive ||
		!sess.Internal.Joined || f.StoppedAt != nil || !unseenAgentActivity(sess) {
		return due{}, nil
	}
	if s.customerOnline(ctx, sess.ID) {
		return due{}, nil
	}
	msg, err := s.firstUnseenMessage(ctx, sess)
	if err != nil || msg == nil {
		return due{}, err
	}
	at := set.Followups.Window.NextIn(msg.At.Add(n.After.Std()), windowZone(sess, set.Followups.Window))
	return due{kind: kindNotice, at: at, seq: msg.Seq, msgAt: msg.At}, nil
}

// unseenAgentActivity is the cheap test before the log is read: an
// agent acted since the customer was last connected and since the last
// notice.
func unseenAgentActivity(sess *Session) bool {
	last := sess.Internal.LastAgentAt
	seen, notice := sess.Internal.LastSeenAt, sess.Internal.Followups.NoticeAt
	return (seen == nil || last.After(*seen)) && (notice == nil || last.After(*notice))
}

func (s *core) customerOnline(ctx context.Context, id string) bool {
	if s.presence == nil {
		return false
	}
	on, err := s.presence.CustomersOnline(ctx, []string{id})
	if err != nil {
		// Unknown presence sends no notice: a customer who is there
		// must not be told they missed a message.
		s.logger(ctx).Warn().Err(err).Str("session", id).Msg("presence unavailable; away notice held")
		return true
	}
	return on[id]
}

// firstUnseenMessage reads the log after the last notice for the first
// agent message logged after the customer was last connected.
func (s *core) firstUnseenMessage(ctx context.Context, sess *Session) (*Event, error) {
	since := sess.Internal.Followups.NoticeSeq
	for page := 0; page < 20; page++ {
		evs, err := s.store.Events(ctx, sess.ID, since, 500)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		for i, e := range evs {
			if unseenMessage(sess, e) {
				return &evs[i], nil
			}
		}
		since = evs[len(evs)-1].Seq
	}
	return nil, nil
}

func unseenMessage(sess *Session, e Event) bool {
	seen := sess.Internal.LastSeenAt
	return e.Type == EventMessage && e.From != nil && e.From.Role == "agent" && (seen == nil || e.At.After(*seen))
}

// stillDue decides, from the session as it is now in the store,
// whether d is still to send: the compare-and-set that makes one node
// of several send it.
func stillDue(cur *Session, set Settings, d due, now time.Time) bool {
	if d.kind == kindNotice {
		f, seen := cur.Internal.Followups, cur.Internal.LastSeenAt
		return f.StoppedAt == nil && cur.State == StateActive && f.NoticeSeq < d.seq && (seen == nil || !seen.After(d.msgAt))
	}
	p := plannedDue(cur, set, now)
	return !p.none() && p.kind == d.kind && !p.at.After(now)
}

// recordDue marks d sent on the session, before it is sent.
func recordDue(cur *Session, d due, now time.Time) {
	f := &cur.Internal.Followups
	switch d.kind {
	case kindReminder:
		f.Reminders++
		f.LastReminderAt = &now
	case kindExpiry:
		exp := *cur.LinkExpiresAt
		f.WarnedExpiry = &exp
	case kindNotice:
		f.NoticeSeq, f.NoticeAt = d.seq, &now
	}
}

// sendDue commits d to the session, then sends it and logs how it went.
func (s *FollowupService) sendDue(ctx context.Context, sess *Session, set Settings, ts TeamSettings, d due) (*Session, error) {
	now := s.now()
	cur, _, err := s.updateFrom(ctx, sess, sess.ID, func(cur *Session) ([]Event, error) {
		if !stillDue(cur, set, d, now) {
			return nil, errNotDue
		}
		recordDue(cur, d, now)
		return nil, nil
	})
	if errors.Is(err, errNotDue) {
		return s.store.Session(ctx, sess.ID)
	}
	if err != nil {
		return nil, err
	}
	channel, status := s.deliverFollowup(ctx, cur, set, ts, d.kind)
	cur, _, err = s.update(ctx, sess.ID, func(*Session) ([]Event, error) {
		return []Event{{Type: d.kind, At: s.now(), From: &Actor{Role: "system"}, State: status, Channel: channel}}, nil
	})
	return cur, err
}

// followupView is where the session's reminders stand.
func followupView(sess *Session, set Settings, now time.Time) *FollowupView {
	fs := set.Followups
	v := &FollowupView{TimeZone: windowZone(sess, fs.Window).String(),
		Reminders: ReminderView{Sent: sess.Internal.Followups.Reminders, Max: fs.Reminders.Max}}
	stop := remindStop(sess, set, now)
	switch {
	case !fs.Reminders.Enabled:
		v.Reminders.Status = RemindersOff
	case stop != "":
		v.Reminders.Status = stop
	default:
		d := reminderDue(sess, fs, windowZone(sess, fs.Window))
		v.Reminders.Status = RemindersDone
		if !d.none() {
			v.Reminders.Status, v.Reminders.NextAt = RemindersScheduled, &d.at
		}
	}
	return v
}

// showFollowups fills the session's follow-up view and, with nudge,
// asks the schedule for its next follow-up: one read of its settings for
// both.
func (s *core) showFollowups(ctx context.Context, sess *Session, nudge bool) {
	set, ok := s.followupSettings(ctx, sess)
	if !ok {
		return
	}
	if nudge {
		s.schedule(ctx, sess, set)
	}
	sess.Followups = followupView(sess, set, s.now())
}

// nudge tells the schedule, when there is one, of the session's next
// reminder or expiry warning after something changed what is due.
func (s *core) nudge(ctx context.Context, sess *Session) {
	if s.cfg.Followups == nil || sess == nil {
		return
	}
	if set, ok := s.followupSettings(ctx, sess); ok {
		s.schedule(ctx, sess, set)
	}
}

func (s *core) followupSettings(ctx context.Context, sess *Session) (Settings, bool) {
	set, _, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		s.logger(ctx).Warn().Err(err).Str("session", sess.ID).Msg("follow-ups not scheduled or shown")
	}
	return set, err == nil
}

// schedule asks for the session's next reminder or expiry warning.
func (s *core) schedule(ctx context.Context, sess *Session, set Settings) {
	if s.cfg.Followups == nil {
		return
	}
	if d := plannedDue(sess, set, s.now()); !d.none() {
		s.sooner(ctx, sess.ID, d.at)
	}
}

func (s *core) sooner(ctx context.Context, id string, at time.Time) {
	if err := s.cfg.Followups.Sooner(ctx, id, at); err != nil {
		s.logger(ctx).Warn().Err(err).Str("session", id).Msg("follow-ups not scheduled")
	}
}

// rescheduleOpen makes every active session due now, in the background:
// follow-up settings changed, and a session scheduled by the old ones
// (or never, while they were off) is put right at its next wake.
func (s *core) rescheduleOpen(ctx context.Context) {
	if s.cfg.Followups == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		ids, err := s.store.Idle(ctx, s.now().Add(100*365*24*time.Hour), maxRescheduled)
		if err != nil {
			s.logger(ctx).Warn().Err(err).Msg("follow-ups not rescheduled after a settings change")
			return
		}
		now := s.now()
		for _, id := range ids {
			s.sooner(ctx, id, now)
		}
	}()
}

// maxRescheduled bounds the sessions a settings change reschedules: past
// it, a session keeps its old schedule until its next nudge.
const maxRescheduled = 100000
