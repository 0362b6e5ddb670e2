package rooms

import (
	"context"
	"time"
)

// KeyPrefix is where every Cohub key and channel lives in Redis (the
// layout of DESIGN.md §2); tests give each their own.
const KeyPrefix = "cohub:"

// Store is the system of record: accounts, settings, sessions and their
// room logs. The memory and Redis stores implement it whole and
// rooms/storetest holds both to one contract; callers take the roles
// below that they use (the hub reads rooms with a RoomReader, readiness
// needs a Pinger), the domain all of them.
type Store interface {
	AccountStore
	SessionStore
	Counters
	Pinger
}

// AccountStore keeps agents, teams, org settings, login tokens, the
// WebSocket's tickets and single sign-on's pending sign-ins.
type AccountStore interface {
	Agents
	Teams
	OrgSettings
	Tokens
	Tickets
	APIKeys
}

// SessionStore keeps session records, their room logs, the history
// indexes and how far each reader has read.
type SessionStore interface {
	RoomWriter
	RoomReader
	HistoryIndex
	ReadHorizons
}

// ReadHorizons keeps each reader's read horizon in a session: the
// highest seq of the room log they have seen (read receipts). It is a
// side record beside the log, not an event in it: the log is the
// hash-chained transcript and every entry a durable commit, and a read
// per scroll would swell both. Readers are ReaderCustomer and
// ReaderAgent(id).
type ReadHorizons interface {
	// RaiseHorizon moves reader's horizon up to seq in one atomic step,
	// never down and never past the log's last seq: a seq not above the
	// horizon, or above the log's end, changes nothing. It answers the
	// horizon after and whether it rose.
	RaiseHorizon(ctx context.Context, sessionID, reader string, seq int64) (int64, bool, error)
	// Horizons returns the horizons of many sessions: session id →
	// reader → seq; a session nobody has read is left out.
	Horizons(ctx context.Context, ids []string) (map[string]map[string]int64, error)
}

// Readers of ReadHorizons.
const ReaderCustomer = "customer"

// ReaderAgent is an agent's name as a reader.
func ReaderAgent(id string) string { return "agent:" + id }

// Agents keeps agent accounts.
type Agents interface {
	// CreateAgent fails with ErrEmailTaken when the email is in use.
	CreateAgent(ctx context.Context, a *Agent) error
	// UpdateAgent replaces an agent; ErrEmailTaken when its new email is used.
	UpdateAgent(ctx context.Context, a *Agent) error
	Agent(ctx context.Context, id string) (*Agent, error)
	AgentByEmail(ctx context.Context, email string) (*Agent, error)
	ListAgents(ctx context.Context) ([]*Agent, error)
}

// Teams keeps teams and their settings.
type Teams interface {
	PutTeam(ctx context.Context, t *Team) error
	Team(ctx context.Context, id string) (*Team, error)
	ListTeams(ctx context.Context) ([]*Team, error)
}

// OrgSettings keeps the one org's settings.
type OrgSettings interface {
	// Settings returns the org settings, or DefaultSettings when none were saved.
	Settings(ctx context.Context) (Settings, error)
	PutSettings(ctx context.Context, s Settings) error
}

// Tokens keeps agents' login tokens.
type Tokens interface {
	// PutToken stores a login token's hash until ttl passes.
	PutToken(ctx context.Context, hash string, t LoginToken, ttl time.Duration) error
	// Token returns what a live token hash names, ErrNotFound otherwise.
	Token(ctx context.Context, hash string) (LoginToken, error)
	DeleteToken(ctx context.Context, hash string) error
}

// Tickets keeps one-use secrets by their hash, sealed: the WebSocket's
// tickets and single sign-on's pending sign-ins (each under names of
// its own). Any node takes what another node issued, once.
type Tickets interface {
	// PutTicket keeps a sealed ticket under its hash until ttl passes.
	PutTicket(ctx context.Context, hash string, sealed []byte, ttl time.Duration) error
	// TakeTicket returns a live ticket and forgets it in one atomic
	// step: of callers racing for one hash, one gets it. ErrNotFound for
	// a ticket taken, expired or never issued.
	TakeTicket(ctx context.Context, hash string) ([]byte, error)
}

// APIKeys keeps the API keys.
type APIKeys interface {
	// PutAPIKey stores a new key, findable by its hash.
	PutAPIKey(ctx context.Context, k APIKey) error
	// APIKeyByHash returns the key of a hash, ErrNotFound when none.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// ListAPIKeys returns every key, with its last use.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// DeleteAPIKey forgets a key (ErrNotFound when none): it opens
	// nothing from then on, on any node.
	DeleteAPIKey(ctx context.Context, id string) error
	// TouchAPIKey records a use.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Counters are what nodes agree on without a record: counts in a window
// and names taken once.
type Counters interface {
	// Hit counts one event under key within a window starting at its first
	// hit, and returns the count so far (login limits, OTP throttles).
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
	// Count reads a Hit counter without counting.
	Count(ctx context.Context, key string) (int64, error)
	// Unhit takes one Hit back within the window (a sign-in counted
	// before its check, that then succeeded); a counter whose window has
	// ended stays gone.
	Unhit(ctx context.Context, key string) error
	// Once reports true to exactly one caller of a name, across nodes:
	// seeding and bootstrap run once however many nodes start together.
	Once(ctx context.Context, name string) (bool, error)
}

// Pinger reports whether the backend is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// RoomWriter commits to sessions and their room logs.
type RoomWriter interface {
	// Commit writes s and appends events to its room log in one atomic
	// step, then updates the history indexes (an index the backend could
	// not update is repaired later; it never fails a commit that
	// happened). A new session has Version 0; otherwise the stored
	// version must equal s.Internal.Version (ErrConflict if not). On
	// success s.Internal.Version is incremented and the events come back
	// with their seq. See CommitOptions for the bounds and names.
	Commit(ctx context.Context, s *Session, events []Event, opts CommitOptions) ([]Event, error)
	// Append logs one chat message in one atomic step that reads only the
	// session's small fields (its write gate and activity), never the
	// whole record, and does not change its version: chat never conflicts
	// with lifecycle commits. It fails like Commit (ErrRoomFull, a
	// *RateLimitError, a *DuplicateError with the first seq) and as the
	// gate says (ErrNotFound, ErrForbidden, ErrReadOnly, ErrSessionEnded).
	Append(ctx context.Context, sessionID string, m MessageAppend) (Appended, error)
}

// LogRebaser begins a new epoch of a room log that went backwards: a
// node delivered events up to seen under epoch, and the log now ends
// before seen (a Redis failover promoted a replica that lacked the last
// writes). The next commits would reuse numbers clients already hold for
// other events; under a new epoch, clients start over (recovered:false)
// instead. Nodes may race to it: the epoch passed is the one the caller
// knows, so the first caller's new epoch is the one every node adopts.
type LogRebaser interface {
	RebaseLog(ctx context.Context, id, epoch string, seen int64) (LogPosition, error)
}

// LogRewriter rewrites the events of an ended session's log in place,
// keeping their seq and digest: erasure blanks what they said. It is not
// for live logs (an append meanwhile could be lost with Redis).
type LogRewriter interface {
	// RewriteLog passes every event to fn and stores what it returns in
	// its place; it returns how many events changed.
	RewriteLog(ctx context.Context, id string, fn func(Event) (Event, bool)) (int, error)
}

// RoomReader reads a session and its room log: what a live room needs
// to fill a gap or serve a replay.
type RoomReader interface {
	Session(ctx context.Context, id string) (*Session, error)
	// Events returns up to limit events with seq > since, in seq order.
	Events(ctx context.Context, id string, since int64, limit int) ([]Event, error)
	// LastSeq returns the room log's last seq and its epoch ("" when the
	// log was never created).
	LastSeq(ctx context.Context, id string) (int64, string, error)
	// LastSeqs is LastSeq for many rooms in one round trip.
	LastSeqs(ctx context.Context, ids []string) (map[string]LogPosition, error)
}

// HistoryIndex lists sessions by activity.
type HistoryIndex interface {
	// SessionsByID loads many at once; missing ids are left out.
	SessionsByID(ctx context.Context, ids []string) ([]*Session, error)
	// History lists session ids of an index, newest activity first,
	// strictly after cursor, not older than since.
	History(ctx context.Context, index string, after Cursor, since time.Time, limit int) ([]IndexEntry, error)
	// Idle lists active sessions whose last agent activity is before t.
	Idle(ctx context.Context, before time.Time, limit int) ([]string, error)
}

// MessageAppend is a chat message for SessionStore.Append.
type MessageAppend struct {
	// Event is the message; a customer's sender name is filled from the
	// session (the name on file now).
	Event Event
	// Now is the service's clock: access windows and activity times.
	Now time.Time
	// MarkUpdated marks the session updated for its agent (a customer's
	// message while no agent is in the room).
	MarkUpdated bool
	// Opts bound and name the append (MaxEvents, Once, Rate).
	Opts CommitOptions
}

// Appended is a logged message and what the hub needs to know of its
// session without reading it.
type Appended struct {
	Event           Event
	AgentID, TeamID string
	// MarkedUpdated says this message newly marked the session updated.
	MarkedUpdated bool
}

// CommitOptions bound and name one commit.
type CommitOptions struct {
	// ClearUpdated clears the session's "updated" mark (its agent opened
	// it); otherwise a commit never clears it.
	ClearUpdated bool
	// MaxEvents > 0 refuses events past that many in the log (ErrRoomFull).
	MaxEvents int64
	// Once, when set, names the commit so that it happens once: a commit
	// of a name already committed (a retry whose reply was lost, a
	// client's resend after a reconnect) changes nothing and fails with a
	// *DuplicateError carrying the seq the first one got. A room keeps
	// the names of at least its last OnceKeep commits (trimmed every 32
	// messages), for OnceFor after its last.
	Once string
	// Rate, when set, limits how fast commits under its key may come;
	// past it the commit fails with a *RateLimitError.
	Rate *Rate
}

// Names kept for CommitOptions.Once.
const (
	OnceKeep = 256
	OnceFor  = time.Hour
)

// Rate is a generic cell rate limit: one commit per Every on average,
// Burst at once.
type Rate struct {
	Key   string
	Every time.Duration
	Burst int
}

// LogPosition is a room log's last seq and epoch.
type LogPosition struct {
	Seq   int64
	Epoch string
}

// Index names for History.
func IndexAgent(id string) string { return "agent:" + id }
func IndexTeam(id string) string  { return "team:" + id }

// IndexAll indexes every session.
const IndexAll = "all"

// AssetStore keeps the metadata of a session's assets (their bytes are
// in the blob store) beside the session: Redis keeps them under the
// session's hash tag. It also lists the sessions whose blobs are still
// kept, for the retention sweep. Memory and Redis implement it;
// assetContract tests both.
type AssetStore interface {
	// PutAsset writes an asset's record (a new one, or one whose blob
	// the sweep deleted).
	PutAsset(ctx context.Context, a *Asset) error
	// DeleteAsset removes a record (of a change that did not happen).
	DeleteAsset(ctx context.Context, sessionID, id string) error
	// Asset returns one asset of a session; ErrNotFound when it has none
	// of that id.
	Asset(ctx context.Context, sessionID, id string) (*Asset, error)
	// Assets lists a session's assets, oldest first.
	Assets(ctx context.Context, sessionID string) ([]*Asset, error)
	// AssetSessions lists, in id order, up to limit sessions after the
	// id after whose assets still have blobs.
	AssetSessions(ctx context.Context, after string, limit int) ([]string, error)
	// ForgetAssetSession drops a session from AssetSessions: its blobs
	// are gone.
	ForgetAssetSession(ctx context.Context, sessionID string) error
}
