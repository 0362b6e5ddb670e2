package rooms

import (
	"encoding/json"
	"time"

	"github.com/oklog/ulid/v2"
)

// Roles an agent account may have.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// Session states.
const (
	StatePlanned = "planned"
	StateActive  = "active"
	StateEnded   = "ended"
)

// Task statuses and kinds.
const (
	TaskPending   = "pending"
	TaskCompleted = "completed"
)

// TaskKinds lists what may be assigned to a customer.
var TaskKinds = []string{"sign", "form", "consent", "upload", "custom"}

// Agent is a logged-in user of the console.
type Agent struct {
	ID              string   `json:"id"`
	Email           string   `json:"email"`
	Name            string   `json:"name"`
	Role            string   `json:"role"`
	TeamID          string   `json:"team_id"`
	SettingsTeamIDs []string `json:"settings_team_ids"`
	// Disabled agents cannot sign in, and their logins have ended.
	Disabled bool `json:"disabled"`
	// PasswordHash is bcrypt; it never leaves the store (json "-").
	PasswordHash []byte `json:"-"`
	// TokenGen is the generation of login tokens that still work: bumping
	// it ends every login issued before (see LoginToken).
	TokenGen int `json:"-"`
	// APIKey names the API key a request came with (Authenticate sets
	// it): audit lines say which integration acted.
	APIKey string `json:"-"`
}

// Team groups agents and owns settings that override the org's.
type Team struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Settings TeamSettings `json:"settings"`
}

// TeamSettings are the settings a session takes from its settings team.
type TeamSettings struct {
	TaskTemplates          []TaskTemplate `json:"task_templates"`
	CustomerAuthentication string         `json:"customer_authentication"`
	Consent                ConsentSetting `json:"consent"`
	Templates              Templates      `json:"templates"`
	// CustomerAccessDuration and EndSessionAccess override the org's when set.
	CustomerAccessDuration *Duration  `json:"customer_access_duration,omitempty"`
	EndSessionAccess       *EndAccess `json:"end_session_access,omitempty"`
	// Language is the customer's language of the team's sessions that
	// set none (an i18n code; empty: the customer's browser's), and the
	// language of the team's own texts (English when empty).
	Language string `json:"language,omitempty"`
	// Followups override the org's follow-ups as a whole when set.
	Followups *FollowupSettings `json:"followups,omitempty"`
	// Translations are the team's texts in other languages, by code.
	Translations map[string]Translation `json:"translations,omitempty"`
}

// TaskTemplate is a task a team offers for one-click assignment.
type TaskTemplate struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
	TaskContent
	// Document is the PDF a sign template carries: each task assigned
	// from the template gets its own copy. Only the template's document
	// route sets it; a team's PUT keeps it as stored.
	Document *TemplateDocument `json:"document,omitempty"`
}

// TemplateDocument describes a sign template's PDF. Key, its place in
// the blob store, is kept in the team record but left out of the
// team's replies.
type TemplateDocument struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Key    string `json:"key,omitempty"`
}

// TaskContent is what a task of a kind needs beyond its title: a form's
// fields, an upload's instructions, a consent's text. A sign task's
// document is attached to the task itself (Task.DocumentID).
type TaskContent struct {
	Fields       []FormField `json:"fields,omitempty"`
	Instructions string      `json:"instructions,omitempty"`
	Text         string      `json:"text,omitempty"`
}

// ConsentSetting says whether the customer must consent, and to what.
type ConsentSetting struct {
	Required bool   `json:"required"`
	Text     string `json:"text"`
}

// Templates are the invitation texts; {{link}}, {{agent}} and {{customer}}
// are replaced when sending.
type Templates struct {
	EmailSubject string `json:"email_subject"`
	EmailBody    string `json:"email_body"`
	SMSBody      string `json:"sms_body"`
}

// Settings are the org's settings.
type Settings struct {
	SMSEnabled             bool      `json:"sms_enabled"`
	InvitationMode         string    `json:"invitation_mode"`
	EndSessionAccess       EndAccess `json:"end_session_access"`
	AutoEndAfter           Duration  `json:"auto_end_after"`
	CustomerAccessDuration Duration  `json:"customer_access_duration"`
	HistoryDays            int       `json:"history_days"`
	HistorySearchSpace     string    `json:"history_search_space"`
	PhoneDefaultRegion     string    `json:"phone_default_region"`
	// AssetRetentionDays deletes the blobs of sessions ended longer ago
	// (0: keep them).
	AssetRetentionDays int `json:"asset_retention_days" put:"optional"`
	// SSO is what single sign-on does beyond signing in the agents that
	// exist. Left out of a PUT: all off.
	SSO SSOSettings `json:"sso" put:"optional"`
	// Followups are reminders, away notices and expiry warnings. Left
	// out of a PUT: all off.
	Followups FollowupSettings `json:"followups" put:"optional"`
}

// SSOSettings are the org's single sign-on options.
type SSOSettings struct {
	// CreateAgents creates the agent of a verified email no agent has, at
	// its first sign-in, with Role in TeamID.
	CreateAgents bool   `json:"create_agents"`
	TeamID       string `json:"team_id"`
	Role         string `json:"role"`
	// PasswordAdminsOnly refuses password sign-in to all but admins:
	// agents and supervisors sign in through the provider.
	PasswordAdminsOnly bool `json:"password_admins_only"`
}

// EndAccess is what a customer keeps when a session ends.
type EndAccess struct {
	Mode string `json:"mode"`
	// Duration is ignored for none and full, so a PUT may leave it out;
	// Settings must give it for full_for and limited_for.
	Duration Duration `json:"duration" put:"optional"`
}

// End access modes.
const (
	AccessNone       = "none"
	AccessFull       = "full"
	AccessFullFor    = "full_for"
	AccessLimitedFor = "limited_for"
)

// Invitation modes.
const (
	InviteBuiltin  = "builtin"
	InviteExternal = "external"
)

// History scopes.
const (
	ScopeMine = "mine"
	ScopeTeam = "team"
	ScopeAll  = "all"
)

// DefaultSettings are the org settings of a new deployment.
func DefaultSettings() Settings {
	return Settings{
		SMSEnabled:             true,
		InvitationMode:         InviteBuiltin,
		EndSessionAccess:       EndAccess{Mode: AccessLimitedFor, Duration: Duration(72 * time.Hour)},
		CustomerAccessDuration: Duration(72 * time.Hour),
		HistoryDays:            90,
		HistorySearchSpace:     ScopeTeam,
		PhoneDefaultRegion:     "US",
		Followups:              DefaultFollowups(),
	}
}

// Customer is the invited person's contact details.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
	// PhoneDisplay is Phone as people write it ("+44 7700 900123"); the
	// server sets it with Phone.
	PhoneDisplay string `json:"phone_display,omitempty"`
}

// Invitation records one delivery attempt and its outcome.
type Invitation struct {
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
	Error   string    `json:"error,omitempty"`
}

// Invitation statuses.
const (
	InviteSent    = "sent"
	InviteFailed  = "failed"
	InviteSkipped = "skipped"
)

// Task is something assigned to the customer.
type Task struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Title       string          `json:"title"`
	Status      string          `json:"status"`
	AssignedAt  time.Time       `json:"assigned_at"`
	CompletedAt *time.Time      `json:"completed_at,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
	TaskContent
	// DocumentID is a sign task's PDF, an asset of the session.
	DocumentID string `json:"document_id,omitempty"`
	// Assets are what completing the task kept: a signed copy, an
	// upload, a form's answers.
	Assets []string `json:"assets,omitempty"`
}

// Indicator is the five-state customer status shown to agents.
type Indicator struct {
	State     string `json:"state"`
	Online    bool   `json:"online"`
	Joined    bool   `json:"joined"`
	Completed bool   `json:"completed"`
	// Tasks counts the session's tasks: the words say "online" rather
	// than "tasks to do" while there is none.
	Tasks int `json:"tasks"`
	// Opened says the customer opened their link; before they join, Gate
	// names the check they are at: authentication or consent ("" once
	// through, about to enter).
	Opened         bool       `json:"opened"`
	Gate           string     `json:"gate,omitempty"`
	Authentication string     `json:"authentication"`
	Consent        string     `json:"consent"`
	LastSeenAt     *time.Time `json:"last_seen_at"`
	// LockedUntil is when a lockout ends; null while authentication is
	// locked means until an agent unlocks it.
	LockedUntil *time.Time `json:"locked_until"`
}

// Indicator states and gate values.
const (
	NeverJoined       = "never_joined"
	OnlineIncomplete  = "online_incomplete"
	OfflineIncomplete = "offline_incomplete"
	OnlineCompleted   = "online_completed"
	OfflineCompleted  = "offline_completed"

	AuthNotRequired = "not_required"
	AuthPending     = "pending"
	AuthVerified    = "verified"
	AuthLocked      = "locked"

	ConsentNotRequested = "not_requested"
	ConsentPending      = "pending"
	ConsentAccepted     = "accepted"
	ConsentDeclined     = "declined"
)

// Session is one collaboration with one customer: one room.
type Session struct {
	ID             string       `json:"id"`
	State          string       `json:"state"`
	Mode           string       `json:"mode"`
	AgentID        string       `json:"agent_id"`
	TeamID         string       `json:"team_id"`
	SettingsTeamID string       `json:"settings_team_id"`
	Customer       Customer     `json:"customer"`
	Invitations    []Invitation `json:"invitations"`
	Tasks          []Task       `json:"tasks"`
	Indicator      Indicator    `json:"indicator"`
	Updated        bool         `json:"updated"`
	// Unread counts the customer's messages the session's agent has not
	// read; only history rows carry it (SessionService.History).
	Unread    int        `json:"unread,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	EndedAt   *time.Time `json:"ended_at"`
	// Language is the customer's language (an i18n code), set at start;
	// empty: the settings team's, else the customer's browser's.
	Language string `json:"language,omitempty"`

	// Access is what the customer keeps while the session is ended.
	Access *EndAccess `json:"end_access,omitempty"`
	// LinkExpiresAt is when the customer's latest link (invitation,
	// resend, new link) stops working.
	LinkExpiresAt *time.Time `json:"link_expires_at,omitempty"`
	// Followups is where the session's reminders stand, for the room's
	// card (the session's own reads fill it).
	Followups *FollowupView `json:"followups,omitempty"`

	// Internal holds what the store keeps but clients never see.
	Internal SessionInternal `json:"-"`
}

// SessionInternal is the part of a session record hidden from the API:
// link generations, gates, and what a renew restores.
type SessionInternal struct {
	Version int64  `json:"version"`
	LinkGen int    `json:"link_gen"`
	PINHash []byte `json:"pin_hash,omitempty"`
	// PINSealed is the PIN sealed for its agent to read again (PIN).
	PINSealed  []byte     `json:"pin_sealed,omitempty"`
	Joined     bool       `json:"joined"`
	LastSeenAt *time.Time `json:"last_seen_at,omitempty"`
	// OpenedAt is when the customer first opened their link: from then
	// on the indicator tells "at the gate" from "never opened".
	OpenedAt       *time.Time `json:"opened_at,omitempty"`
	Authentication string     `json:"authentication"`
	Consent        string     `json:"consent"`
	PrevState      string     `json:"prev_state,omitempty"`
	// OTPHash is an HMAC of the customer's current one-time code.
	OTPHash    string     `json:"otp_hash,omitempty"`
	OTPExpires *time.Time `json:"otp_expires,omitempty"`
	// AuthFails counts wrong answers since the last lockout; Lockouts
	// counts lockouts since the last right answer (they escalate).
	// LockedUntil ends a timed lockout; LockHeld lasts until an agent
	// unlocks. Authentication itself stays pending or verified.
	AuthFails   int        `json:"auth_fails,omitempty"`
	Lockouts    int        `json:"lockouts,omitempty"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	LockHeld    bool       `json:"lock_held,omitempty"`
	// OTPSent and LinksResent are the last day's sends to the customer,
	// for their limits.
	OTPSent     []time.Time `json:"otp_sent,omitempty"`
	LinksResent []time.Time `json:"links_resent,omitempty"`
	LastAgentAt time.Time   `json:"last_agent_at"`
	// Followups is what was sent to bring the customer back.
	Followups FollowupState `json:"followups"`
}

// Event is one entry of a room log. Seq is assigned by the store.
type Event struct {
	Seq     int64      `json:"seq,omitempty"`
	Type    string     `json:"type"`
	At      time.Time  `json:"at"`
	From    *Actor     `json:"from,omitempty"`
	Text    string     `json:"text,omitempty"`
	Task    *Task      `json:"task,omitempty"`
	TaskID  string     `json:"task_id,omitempty"`
	Access  *EndAccess `json:"access,omitempty"`
	Consent string     `json:"consent,omitempty"`
	Auth    string     `json:"authentication,omitempty"`
	// Method is how a customer's authentication was verified: pin or otp.
	Method string `json:"method,omitempty"`
	State  string `json:"state,omitempty"`
	// Channel is how a follow-up went: email or sms.
	Channel string `json:"channel,omitempty"`
	// Assets are the asset ids a task.completed kept.
	Assets []string `json:"assets,omitempty"`
	// Digest is the SHA-256 of the event's content as it was logged: the
	// session's hash chain is made of digests, so a changed event no
	// longer matches its own.
	Digest string `json:"digest,omitempty"`
	// Erased says a data-protection erasure blanked what the event said;
	// its digest still holds its place in the chain.
	Erased bool `json:"erased,omitempty"`
}

// Actor says who caused an event.
type Actor struct {
	Role string `json:"role"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Logged event types.
const (
	EventMessage        = "message"
	EventTaskAssigned   = "task.assigned"
	EventTaskWithdrawn  = "task.withdrawn"
	EventTaskCompleted  = "task.completed"
	EventTaskUpdated    = "task.updated"
	EventCustomerJoined = "customer.joined"
	// EventCustomerOpened: the customer opened their link (the first time).
	EventCustomerOpened = "customer.opened"
	EventReengaged      = "customer.reengaged"
	EventConsentChanged = "consent.changed"
	EventAuthChanged    = "authentication.changed"
	EventSessionEnded   = "session.ended"
	EventSessionRenewed = "session.renewed"
	// EventSessionErased is erasure's tombstone: who erased what, when.
	EventSessionErased = "session.erased"
	// Follow-ups (State: sent or failed; Channel) and the reminders'
	// pause, resume and the customer's stop.
	EventReminder         = "reminder"
	EventAwayNotice       = "away_notice"
	EventExpiryWarning    = "expiry_warning"
	EventRemindersPaused  = "reminders.paused"
	EventRemindersResumed = "reminders.resumed"
	EventRemindersStopped = "reminders.stopped"
)

// CustomerView is what a customer's link shows.
type CustomerView struct {
	Session   CustomerSession `json:"session"`
	Access    string          `json:"access"`
	Gates     GateStatus      `json:"gates"`
	Agent     string          `json:"agent"`
	ExpiresAt time.Time       `json:"expires_at"`
	// Team names the agent's team, for the customer's opening page.
	Team string `json:"team"`
	// MaxUpload is the largest file the customer may send, in bytes.
	MaxUpload int64 `json:"max_upload"`
}

// CustomerSession is the customer's part of a session: no contacts, no
// internals; tasks only once the gates are passed.
type CustomerSession struct {
	ID       string         `json:"id"`
	State    string         `json:"state"`
	Customer CustomerName   `json:"customer"`
	Tasks    []Task         `json:"tasks"`
	Access   *EndAccess     `json:"end_access,omitempty"`
	Consent  ConsentSetting `json:"consent"`
}

// CustomerName is the one contact detail a customer view carries.
type CustomerName struct {
	Name string `json:"name"`
}

// GateStatus says where this browser stands with authentication and consent:
// each browser passes the gates itself.
type GateStatus struct {
	Authentication string `json:"authentication"`
	Consent        string `json:"consent"`
	// Method is how the customer authenticates: "otp" or "pin".
	Method string `json:"method,omitempty"`
	// LockedUntil is when a lockout ends; absent while locked means
	// until the agent lets the customer try again.
	LockedUntil *time.Time `json:"locked_until,omitempty"`
}

// Passed reports whether nothing stands between the customer and the room.
func (g GateStatus) Passed() bool {
	return (g.Authentication == AuthNotRequired || g.Authentication == AuthVerified) &&
		(g.Consent == ConsentNotRequested || g.Consent == ConsentAccepted)
}

// FormField is one field of a form task. The same definition goes to the
// customer's page, which checks answers with the same rules before
// sending; the server checks the answers again.
type FormField struct {
	// Name keys the answer: lower-case letters, digits and "_".
	Name  string `json:"name"`
	Label string `json:"label"`
	// Type is one of FieldTypes.
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	// Pattern, for text and phone, is a regular expression the whole
	// answer must match (the common subset of Go's and JavaScript's).
	Pattern string `json:"pattern,omitempty"`
	// Min and Max bound a number (as numbers) or a date (YYYY-MM-DD).
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
	// Options are a select's choices.
	Options []string `json:"options,omitempty"`
	Help    string   `json:"help,omitempty"`
}

// FieldTypes are the kinds of form fields.
var FieldTypes = []string{"text", "email", "phone", "date", "number", "select", "checkbox"}

// LoginToken is what a stored login token names: its agent, and the
// agent's token generation when it was issued. Bumping the agent's
// generation (a new password, disabled, "sign out everywhere") ends
// every token issued before, with no list of tokens to find.
type LoginToken struct {
	AgentID string
	Gen     int
}

// Message is a chat message to log.
type Message struct {
	From Actor
	Text string
	// AgentsHere says an agent is in the room: a customer's message then
	// does not mark the session updated.
	AgentsHere bool
	// CustomerOnline says the customer is connected (the hub knows): an
	// agent's message then schedules no away notice.
	CustomerOnline bool
	// ID names the message for its sender: a message with an ID already
	// logged (a resend after a lost reply or a reconnect) is logged once,
	// and answers with the seq it got then.
	ID string
}

// TaskRequest assigns a task ad hoc (kind and title) or from the settings
// team's templates (template index).
type TaskRequest struct {
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	Template *int   `json:"template"`
	TaskContent
}

func agentActor(a *Agent) *Actor {
	return &Actor{Role: "agent", ID: a.ID, Name: a.Name}
}

func taskIndex(tasks []Task, id string) int {
	for i, t := range tasks {
		if t.ID == id {
			return i
		}
	}
	return -1
}

// HistoryQuery is what the history panel asks for.
type HistoryQuery struct {
	Scope   string // mine (default) | team | all
	Status  string // all (default) | completed | incomplete
	Updated bool
	Q       string
	Limit   int
	Cursor  string
	// region reads a phone number typed without its country code (the
	// org's default region).
	region string
}

// History is one page of sessions, newest activity first.
type History struct {
	Sessions   []*Session `json:"sessions"`
	NextCursor string     `json:"next_cursor"`
}

func newID(prefix string) string { return prefix + ulid.Make().String() }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
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

// IndexEntry is one history index member.
type IndexEntry struct {
	ID    string
	Score int64 // last activity, unix ms
}

// Cursor is a position in a history index: entries strictly older, or as
// old with a smaller id, come after it. The zero Cursor is the start.
type Cursor struct {
	Score int64
	ID    string
}

// Admits reports whether e comes after c in newest-first order.
func (c Cursor) Admits(e IndexEntry) bool {
	if c.ID == "" {
		return true
	}
	return e.Score < c.Score || (e.Score == c.Score && e.ID < c.ID)
}

// APIKeyPrefix starts every API key, so a key is told from a login token
// (and found by secret scanners) by its first characters.
const APIKeyPrefix = "ck_"

// APIKey is a named credential an admin gives an integration (a CRM): it
// acts as one agent, with that agent's role, through
// "Authorization: Bearer". The key itself is shown once, when issued;
// the store keeps its hash.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	AgentID    string     `json:"agent_id"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// Hash is the key's TokenHash: how it is found, never shown.
	Hash string `json:"hash,omitempty"`
}
