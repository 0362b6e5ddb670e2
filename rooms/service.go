package rooms

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/pdfsign"
)

// Presence tells which customers are connected now. The live hub
// provides it; without one every customer shows offline.
type Presence interface {
	CustomersOnline(ctx context.Context, sessionIDs []string) (map[string]bool, error)
}

// Config holds what the service needs beyond its store.
type Config struct {
	// Secret signs customer links. Required.
	Secret []byte
	// PublicURL is where customers reach Cohub, e.g. https://cohub.example.com.
	PublicURL string
	// MaxRoomEvents caps a room log for customers' messages (agents' at
	// twice that). Zero value means 10,000.
	MaxRoomEvents int64
	// MessageRate is how many messages a second each sender may post in a
	// session, across connections and nodes, with MessageBurst at once.
	// Zero values mean 10 and 30.
	MessageRate  float64
	MessageBurst int
	// SendTimeout bounds one invitation delivery. Zero value means 15 seconds.
	SendTimeout time.Duration
	// TokenTTL is how long an agent login lasts. Zero value means 12 hours.
	TokenTTL time.Duration
	// Now is the clock. Zero value means time.Now.
	Now func() time.Time
	// BcryptCost hashes passwords and PINs. Zero value means bcrypt.DefaultCost.
	BcryptCost int
	// Blobs keeps the bytes of assets. Zero value: a bucket in this
	// process's memory (one node only).
	Blobs blobs.Store
	// MaxUpload bounds one file. Zero value means DefaultMaxUpload.
	MaxUpload int64
	// MaxDecodes bounds the image decodes and PDF parses running at once
	// on this node. Zero value means the CPU count.
	MaxDecodes int
	// DecodeWait is how long a file waits for a decode slot before it is
	// refused as busy. Zero value means 2 seconds.
	DecodeWait time.Duration
	// Sealer signs every signed copy digitally. Zero value: an identity
	// derived from Secret, self-signed, without timestamps.
	Sealer *pdfsign.Sealer
	// Listener hears of every commit, logged message and account change:
	// the live hub. Zero value: nobody listens.
	Listener Listener
	// Presence tells which customers are connected now: the live hub.
	// Zero value: every customer shows offline.
	Presence Presence
	// Announce hears of what happened to a session that its log does not
	// say (created, invited, an invitation sent or failed), after it is
	// stored: webhooks. It must not block for long. Zero value: nobody.
	Announce func(ctx context.Context, a Announcement)
	// Followups wakes each session when a follow-up of it may be due
	// (a reminder, a notice, an expiry warning): the followup package's
	// schedule. Zero value: follow-ups never run.
	Followups Scheduler
	// FollowupMinDelay is the shortest delay, interval or quiet period
	// follow-up settings may give. Zero value means
	// DefaultFollowupMinDelay; tests lower it.
	FollowupMinDelay time.Duration
}

// Scheduler keeps one wake-up time per session.
type Scheduler interface {
	// Sooner makes the session due no later than at: an earlier time
	// already set stays. FollowupService.Wake decides, when it is
	// due, what (if anything) to send, so a spurious wake-up is harmless.
	Sooner(ctx context.Context, sessionID string, at time.Time) error
}

// Announcement is something that happened to a session outside its log.
type Announcement struct {
	// Type is one of the Announce… types.
	Type    string
	At      time.Time
	Session *Session
	// Invitation is an AnnounceInvitation's outcome.
	Invitation *Invitation
}

// Announcement types.
const (
	AnnounceCreated    = "session.created"
	AnnounceInvited    = "session.invited"
	AnnounceInvitation = "invitation"
)

// Listener hears what the domain changed, to tell rooms, inboxes and
// open connections on every node. Its methods must not block.
type Listener interface {
	// Committed: a change of a session committed, with the events it
	// logged (the hub pushes inbox updates from it).
	Committed(s *Session, events []Event)
	// Logged: a commit or message logged events in a session up to seq
	// (the hub's room reads the log if the bus does not bring them).
	Logged(sessionID string, seq int64)
	// AgentChanged: an agent's account changed (password, role, teams,
	// disabled, signed out everywhere); the hub re-checks that agent's
	// open connections.
	AgentChanged(agentID string)
}

// quiet is the Listener of a domain nobody listens to.
type quiet struct{}

func (quiet) Committed(*Session, []Event) {}
func (quiet) Logged(string, int64)        {}
func (quiet) AgentChanged(string)         {}

// Service is the session domain, one type per concern; callers take
// the one they need. All four share one core: the store, the clock, the
// commit loop and who is told of commits.
type Service struct {
	// Sessions starts sessions and runs their lifecycle, tasks, room
	// messages and the history panel.
	Sessions *SessionService
	// Gates lets a customer in through their link: code, PIN, consent.
	Gates *GateService
	// Accounts signs agents in and keeps agents, teams and settings.
	Accounts *AccountService
	// Files keeps files: documents to sign, signed copies, uploads,
	// form answers, and their retention.
	Files *FileService
	// Evidence makes what a session proves: its record, its completion
	// certificate, its erasure; and says who seals signed copies.
	Evidence *EvidenceService
	// Tickets opens the WebSocket with one-use tickets instead of
	// credentials in its URL.
	Tickets *TicketService
	// Keys issues and revokes the API keys integrations sign in with.
	Keys *KeyService
	// SSO signs agents in through an OpenID provider.
	SSO *SSOService
	// Followups sends what brings a customer back: reminders, notices
	// of new messages while away, warnings before their link expires.
	Followups *FollowupService
	*core
}

// SessionService is the sessions concern of the domain.
type SessionService struct {
	*core
	files *FileService
}

// GateService is the customer-gates concern of the domain.
type GateService struct {
	*core
}

// AccountService is the accounts concern of the domain.
type AccountService struct {
	*core
	files *FileService
}

// EvidenceService is the evidence concern of the domain: who seals,
// the session's record as a zip, its completion certificate, erasure.
type EvidenceService struct {
	*core
	files *FileService
}

// FileService is the files concern of the domain.
type FileService struct {
	*core
	gates *GateService
}

// TicketService issues and takes the one-use tickets that open the
// WebSocket, in place of credentials in its URL. A ticket is kept in the
// store (any node takes what another issued) under its hash, sealed with
// a key only the ticket gives: the store never holds a usable
// credential.
type TicketService struct {
	*core
}

// KeyService issues, lists and revokes API keys (admins only, which the
// HTTP edge checks); AccountService.Authenticate takes them.
type KeyService struct {
	*core
}

// core is what every concern shares.
type core struct {
	store    Store
	assets   AssetStore
	sender   notify.Sender
	presence Presence
	listen   Listener
	// allDone runs after a commit that completed a session's last task:
	// the completion certificate is made then.
	allDone func(ctx context.Context, sessionID string)
	cfg     Config
	log     zerolog.Logger
	// dummyHash keeps a login for an unknown email as slow as a wrong
	// password, so timing does not tell which emails exist.
	dummyHash []byte
	// decodes holds a token per running decode (heavy).
	decodes chan struct{}
}

func (s *core) logged(id string, evs []Event) {
	if len(evs) > 0 {
		s.listen.Logged(id, evs[len(evs)-1].Seq)
	}
}

func (s *core) agentChanged(id string) { s.listen.AgentChanged(id) }

// announce tells Config.Announce, when set, of typ.
func (s *core) announce(ctx context.Context, typ string, sess *Session, inv *Invitation) {
	if s.cfg.Announce != nil {
		s.cfg.Announce(ctx, Announcement{Type: typ, At: s.now(), Session: sess, Invitation: inv})
	}
}

// Store returns the system of record.
func (s *core) Store() Store { return s.store }

func (s *core) now() time.Time { return s.cfg.Now().UTC() }

// logger is the request's logger (it carries the request id) when there
// is one, else the service's.
func (s *core) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &s.log
}

// sessionEdit is one atomic edit of a session: it mutates the session and
// returns the events to log with it.
type sessionEdit func(sess *Session) ([]Event, error)

// update applies fn to the current session and commits, retrying when
// another writer got there first.
func (s *core) update(ctx context.Context, id string, fn sessionEdit) (*Session, []Event, error) {
	return s.updateFrom(ctx, nil, id, fn)
}

// updateFrom is update starting from a session already loaded (nil:
// load it); a conflict reloads it.
func (s *core) updateFrom(ctx context.Context, sess *Session, id string, fn sessionEdit) (*Session, []Event, error) {
	return s.commit(ctx, sess, id, CommitOptions{}, fn)
}

// commit applies fn and commits with opts, reloading and retrying on a
// conflict.
func (s *core) commit(ctx context.Context, sess *Session, id string, opts CommitOptions, fn sessionEdit) (*Session, []Event, error) {
	for attempt := 0; ; attempt++ {
		if sess == nil {
			var err error
			if sess, err = s.store.Session(ctx, id); err != nil {
				return nil, nil, err
			}
		}
		evs, err := fn(sess)
		if err != nil {
			return nil, nil, err
		}
		for i := range evs {
			evs[i].Digest = EventDigest(evs[i])
		}
		out, err := s.store.Commit(ctx, sess, evs, opts)
		if errors.Is(err, ErrConflict) && attempt < 20 {
			sess = nil
			continue
		}
		if err == nil {
			s.logged(id, out)
			s.listen.Committed(sess, out)
			if s.allDone != nil && completesAll(sess, out) {
				s.allDone(ctx, id)
			}
		}
		return sess, out, err
	}
}

// effective merges the org settings with a settings team's.
func (s *core) effective(ctx context.Context, teamID string) (Settings, TeamSettings, error) {
	set, err := s.store.Settings(ctx)
	if err != nil {
		return Settings{}, TeamSettings{}, err
	}
	ts := DefaultTeamSettings()
	if teamID != "" {
		t, err := s.store.Team(ctx, teamID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Settings{}, TeamSettings{}, err
		}
		if t != nil {
			ts = t.Settings
		}
	}
	if ts.CustomerAccessDuration != nil {
		set.CustomerAccessDuration = *ts.CustomerAccessDuration
	}
	if ts.EndSessionAccess != nil {
		set.EndSessionAccess = *ts.EndSessionAccess
	}
	if ts.Followups != nil {
		set.Followups = *ts.Followups
	}
	return set, ts, nil
}

// DefaultTeamSettings are a team's settings when only a name is given.
func DefaultTeamSettings() TeamSettings {
	return TeamSettings{
		TaskTemplates:          []TaskTemplate{},
		CustomerAuthentication: "none",
		Templates: Templates{
			EmailSubject: notify.DefaultEmailSubject,
			EmailBody:    notify.DefaultEmailBody,
			SMSBody:      notify.DefaultSMSBody,
		},
	}
}

// TokenTTL is how long a login lasts.
func (s *core) TokenTTL() time.Duration { return s.cfg.TokenTTL }

// MaxUpload is the largest file accepted.
func (s *core) MaxUpload() int64 { return s.cfg.MaxUpload }

// withIndicators fills each session's indicator from live presence.
func (s *core) withIndicators(ctx context.Context, list ...*Session) {
	online := map[string]bool{}
	if s.presence != nil && len(list) > 0 {
		ids := make([]string, len(list))
		for i, sess := range list {
			ids[i] = sess.ID
		}
		if got, err := s.presence.CustomersOnline(ctx, ids); err == nil {
			online = got
		} else {
			s.logger(ctx).Warn().Err(err).Msg("presence unavailable; customers shown offline")
		}
	}
	for _, sess := range list {
		sess.Indicator = ComputeIndicator(sess, online[sess.ID], s.now())
		if sess.Tasks == nil {
			sess.Tasks = []Task{}
		}
		if sess.Invitations == nil {
			sess.Invitations = []Invitation{}
		}
	}
}

// MayOpen checks, without side effects, that an agent may open a
// session's room: the hub asks before it starts a room for them.
func (s *core) MayOpen(ctx context.Context, a *Agent, id string) error {
	sess, err := s.visible(ctx, a, id)
	if err != nil {
		return err
	}
	if !CanAct(a, sess) {
		return ErrForbidden
	}
	return nil
}

// mayWrite refuses writes the session's state does not allow.
func (s *core) mayWrite(cur *Session, role string, now time.Time) error {
	return WriteGate(cur, role, now)
}

// Now is the service's clock, for the hub's access checks.
func (s *core) Now() time.Time { return s.now() }

// visible loads a session the agent may see; others are not found.
func (s *core) visible(ctx context.Context, a *Agent, id string) (*Session, error) {
	sess, err := s.store.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	set, err := s.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if !CanSee(a, sess, set.HistorySearchSpace) {
		return nil, ErrNotFound
	}
	return sess, nil
}

// act loads a session for an agent action: not found when the agent may
// not see it, forbidden when they may see but not act on it.
func (s *core) act(ctx context.Context, a *Agent, id string, fn sessionEdit) (*Session, []Event, error) {
	sess, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if !CanAct(a, sess) {
		return nil, nil, ErrForbidden
	}
	return s.updateFrom(ctx, sess, id, func(cur *Session) ([]Event, error) {
		evs, err := fn(cur)
		if err != nil {
			return nil, err
		}
		now := s.now()
		cur.Internal.LastAgentAt = now
		if len(evs) > 0 {
			cur.UpdatedAt = now
		}
		return evs, nil
	})
}

// completesAll says the events completed a task and none is left to do.
func completesAll(sess *Session, events []Event) bool {
	for _, e := range events {
		if e.Type == EventTaskCompleted {
			return tasksCompleted(sess.Tasks)
		}
	}
	return false
}

// tick runs fn every interval until ctx ends: the node's sweeps.
func (s *core) tick(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
