package rooms

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/notify"
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
	// Listener hears of every commit, logged message and account change:
	// the live hub. Zero value: nobody listens.
	Listener Listener
	// Presence tells which customers are connected now: the live hub.
	// Zero value: every customer shows offline.
	Presence Presence
}

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
	Sessions *Sessions
	// Gates lets a customer in through their link: code, PIN, consent.
	Gates *Gates
	// Accounts signs agents in and keeps agents, teams and settings.
	Accounts *Accounts
	// Assets keeps files: documents to sign, signed copies, uploads,
	// form answers, and their retention.
	Assets *Assets
	*core
}

// Sessions is the sessions concern of the domain.
type Sessions struct {
	*core
	files *Assets
}

// Gates is the customer-gates concern of the domain.
type Gates struct {
	*core
}

// Accounts is the accounts concern of the domain.
type Accounts struct {
	*core
	files *Assets
}

// Assets is the files concern of the domain.
type Assets struct {
	*core
	gates *Gates
}

// core is what every concern shares.
type core struct {
	store    Store
	assets   AssetStore
	sender   notify.Sender
	presence Presence
	listen   Listener
	cfg      Config
	log      zerolog.Logger
	// dummyHash keeps a login for an unknown email as slow as a wrong
	// password, so timing does not tell which emails exist.
	dummyHash []byte
	// decodes holds a token per running decode (heavy).
	decodes chan struct{}
}

// NewService wires the domain to its store and invitation sender.
func NewService(store Store, sender notify.Sender, cfg Config, log zerolog.Logger) *Service {
	if cfg.MaxRoomEvents == 0 {
		cfg.MaxRoomEvents = 10000
	}
	if cfg.MessageRate == 0 {
		cfg.MessageRate = 10
	}
	if cfg.MessageBurst == 0 {
		cfg.MessageBurst = 30
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = 15 * time.Second
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.Blobs == nil {
		cfg.Blobs, _ = blobs.Open(context.Background(), "mem://")
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.MaxDecodes <= 0 {
		cfg.MaxDecodes = runtime.NumCPU()
	}
	if cfg.DecodeWait <= 0 {
		cfg.DecodeWait = 2 * time.Second
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte("cohub-no-such-agent"), cfg.BcryptCost)
	// Both stores keep asset records beside their sessions.
	assets, _ := store.(AssetStore)
	if cfg.Listener == nil {
		cfg.Listener = quiet{}
	}
	c := &core{store: store, assets: assets, sender: sender, presence: cfg.Presence, listen: cfg.Listener,
		cfg: cfg, log: log, dummyHash: dummy,
		decodes: make(chan struct{}, cfg.MaxDecodes)}
	gates := &Gates{core: c}
	files := &Assets{core: c, gates: gates}
	return &Service{core: c, Gates: gates, Assets: files,
		Sessions: &Sessions{core: c, files: files}, Accounts: &Accounts{core: c, files: files}}
}

func (s *core) logged(id string, evs []Event) {
	if len(evs) > 0 {
		s.listen.Logged(id, evs[len(evs)-1].Seq)
	}
}

func (s *core) agentChanged(id string) { s.listen.AgentChanged(id) }

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

func newID(prefix string) string { return prefix + ulid.Make().String() }

// change is one atomic edit of a session: it mutates the session and
// returns the events to log with it.
type change func(sess *Session) ([]Event, error)

// update applies fn to the current session and commits, retrying when
// another writer got there first.
func (s *core) update(ctx context.Context, id string, fn change) (*Session, []Event, error) {
	return s.updateFrom(ctx, nil, id, fn)
}

// updateFrom is update starting from a session already loaded (nil:
// load it); a conflict reloads it.
func (s *core) updateFrom(ctx context.Context, sess *Session, id string, fn change) (*Session, []Event, error) {
	return s.commit(ctx, sess, id, CommitOptions{}, fn)
}

// commit applies fn and commits with opts, reloading and retrying on a
// conflict.
func (s *core) commit(ctx context.Context, sess *Session, id string, opts CommitOptions, fn change) (*Session, []Event, error) {
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
		out, err := s.store.Commit(ctx, sess, evs, opts)
		if errors.Is(err, ErrConflict) && attempt < 20 {
			sess = nil
			continue
		}
		if err == nil {
			s.logged(id, out)
			s.listen.Committed(sess, out)
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
