package rooms

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"
)

// MemStore is the embedded backend: everything in this process's memory.
// Records are kept encoded, so callers never share memory with the store.
type MemStore struct {
	mu       sync.Mutex
	agents   map[string][]byte
	emails   map[string]string
	teams    map[string]*Team
	settings *Settings
	tokens   map[string]memToken
	hits     map[string]memHit
	once     map[string]bool
	sessions map[string][]byte
	logs     map[string]*memLog
	indexes  map[string]map[string]int64
	idle     map[string]int64

	am memAssets

	// Published, when set, receives each commit's events in seq order
	// after the commit; it must not block (the hub's bus hands them on).
	Published func(sessionID string, events []Event)
}

type memToken struct {
	token LoginToken
	until time.Time
}

type memHit struct {
	n     int64
	until time.Time
}

type memLog struct {
	epoch  string
	events [][]byte
	// once maps commit names to their last seq; names lists them oldest
	// first, to keep OnceKeep of them.
	once  map[string]int64
	names []string
	// rates maps a rate key to when its next commit is allowed without burst.
	rates map[string]time.Time
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		agents:   map[string][]byte{},
		emails:   map[string]string{},
		teams:    map[string]*Team{},
		tokens:   map[string]memToken{},
		hits:     map[string]memHit{},
		once:     map[string]bool{},
		sessions: map[string][]byte{},
		logs:     map[string]*memLog{},
		indexes:  map[string]map[string]int64{},
		idle:     map[string]int64{},
	}
}

// Ping always succeeds: memory is always there.
func (m *MemStore) Ping(context.Context) error { return nil }

// CreateAgent stores a new agent with a unique email.
func (m *MemStore) CreateAgent(_ context.Context, a *Agent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	email := strings.ToLower(a.Email)
	if _, ok := m.emails[email]; ok {
		return ErrEmailTaken
	}
	b, err := encodeAgent(a)
	if err != nil {
		return err
	}
	m.emails[email] = a.ID
	m.agents[a.ID] = b
	return nil
}

// UpdateAgent replaces an existing agent.
func (m *MemStore) UpdateAgent(_ context.Context, a *Agent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.agents[a.ID]
	if !ok {
		return ErrNotFound
	}
	prev, err := decodeAgent(old)
	if err != nil {
		return err
	}
	email, prevEmail := strings.ToLower(a.Email), strings.ToLower(prev.Email)
	if id, ok := m.emails[email]; ok && id != a.ID {
		return ErrEmailTaken
	}
	b, err := encodeAgent(a)
	if err != nil {
		return err
	}
	delete(m.emails, prevEmail)
	m.emails[email] = a.ID
	m.agents[a.ID] = b
	return nil
}

// Agent returns one agent.
func (m *MemStore) Agent(_ context.Context, id string) (*Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.agentLocked(id)
}

func (m *MemStore) agentLocked(id string) (*Agent, error) {
	b, ok := m.agents[id]
	if !ok {
		return nil, ErrNotFound
	}
	return decodeAgent(b)
}

// AgentByEmail finds an agent by email, case-insensitively.
func (m *MemStore) AgentByEmail(_ context.Context, email string) (*Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.emails[strings.ToLower(email)]
	if !ok {
		return nil, ErrNotFound
	}
	return m.agentLocked(id)
}

// ListAgents returns every agent, by email.
func (m *MemStore) ListAgents(_ context.Context) ([]*Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Agent, 0, len(m.agents))
	for id := range m.agents {
		a, err := m.agentLocked(id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, nil
}

// PutTeam creates or replaces a team.
func (m *MemStore) PutTeam(_ context.Context, t *Team) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := cloneJSON(t)
	if err != nil {
		return err
	}
	m.teams[t.ID] = c
	return nil
}

// Team returns one team.
func (m *MemStore) Team(_ context.Context, id string) (*Team, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.teams[id]
	if !ok {
		return nil, ErrNotFound
	}
	return cloneJSON(t)
}

// ListTeams returns every team, by name.
func (m *MemStore) ListTeams(_ context.Context) ([]*Team, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Team, 0, len(m.teams))
	for _, t := range m.teams {
		c, err := cloneJSON(t)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Settings returns the org settings.
func (m *MemStore) Settings(_ context.Context) (Settings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settings == nil {
		return DefaultSettings(), nil
	}
	return *m.settings, nil
}

// PutSettings replaces the org settings.
func (m *MemStore) PutSettings(_ context.Context, s Settings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settings = &s
	return nil
}

// PutToken stores a login token hash.
func (m *MemStore) PutToken(_ context.Context, hash string, t LoginToken, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[hash] = memToken{token: t, until: time.Now().Add(ttl)}
	return nil
}

// Token resolves a live token hash.
func (m *MemStore) Token(_ context.Context, hash string) (LoginToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[hash]
	if !ok || time.Now().After(t.until) {
		delete(m.tokens, hash)
		return LoginToken{}, ErrNotFound
	}
	return t.token, nil
}

// DeleteToken forgets a token.
func (m *MemStore) DeleteToken(_ context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, hash)
	return nil
}

// Commit writes the session and appends its events atomically.
func (m *MemStore) Commit(_ context.Context, s *Session, events []Event, opts CommitOptions) ([]Event, error) {
	m.mu.Lock()
	out, err := m.commitLocked(s, events, opts)
	publish := m.Published
	m.mu.Unlock()
	if err == nil && publish != nil && len(out) > 0 {
		publish(s.ID, out)
	}
	return out, err
}

func (m *MemStore) commitLocked(s *Session, events []Event, opts CommitOptions) ([]Event, error) {
	log := m.logs[s.ID]
	if log == nil {
		log = &memLog{epoch: newEpoch()}
	}
	if seq, ok := log.once[opts.Once]; ok && opts.Once != "" {
		return nil, &DuplicateError{LastSeq: seq}
	}
	cur, ok := m.sessions[s.ID]
	version := int64(0)
	if ok {
		prev, err := decodeSession(cur)
		if err != nil {
			return nil, err
		}
		version = prev.Internal.Version
		if version == s.Internal.Version {
			mergeActivity(s, prev, opts.ClearUpdated)
		}
	}
	if version != s.Internal.Version {
		return nil, ErrConflict
	}
	if opts.MaxEvents > 0 && int64(len(log.events)+len(events)) > opts.MaxEvents {
		return nil, ErrRoomFull
	}
	tat := time.Time{}
	if r := opts.Rate; r != nil {
		var wait time.Duration
		if tat, wait = gcra(log.rates[r.Key], time.Now(), r); wait > 0 {
			return nil, &RateLimitError{RetryAfter: wait}
		}
	}
	s.Internal.Version++
	b, err := encodeSession(s)
	if err != nil {
		s.Internal.Version--
		return nil, err
	}
	out, encoded, err := numberEvents(events, int64(len(log.events)))
	if err != nil {
		s.Internal.Version--
		return nil, err
	}
	m.sessions[s.ID] = b
	m.logs[s.ID] = log
	log.events = append(log.events, encoded...)
	if opts.Rate != nil {
		if log.rates == nil {
			log.rates = map[string]time.Time{}
		}
		log.rates[opts.Rate.Key] = tat
	}
	log.remember(opts.Once, int64(len(log.events)))
	m.indexLocked(s)
	return out, nil
}

// Append logs one chat message; the record changes only in its activity
// (not its version), like the Redis store's small fields.
func (m *MemStore) Append(_ context.Context, id string, a MessageAppend) (Appended, error) {
	m.mu.Lock()
	out, err := m.appendLocked(id, a)
	publish := m.Published
	m.mu.Unlock()
	if err == nil && publish != nil {
		publish(id, []Event{out.Event})
	}
	return out, err
}

func (m *MemStore) appendLocked(id string, a MessageAppend) (Appended, error) {
	b, ok := m.sessions[id]
	if !ok {
		return Appended{}, ErrNotFound
	}
	s, err := decodeSession(b)
	if err != nil {
		return Appended{}, err
	}
	out := Appended{AgentID: s.AgentID, TeamID: s.TeamID}
	log := m.logs[id]
	if log == nil {
		log = &memLog{epoch: newEpoch()}
	}
	if seq, ok := log.once[a.Opts.Once]; ok && a.Opts.Once != "" {
		out.Event = a.Event
		out.Event.Seq = seq
		return out, &DuplicateError{LastSeq: seq}
	}
	role := a.Event.From.Role
	if err := writeGate(s, role, a.Now); err != nil {
		return out, err
	}
	if a.Opts.MaxEvents > 0 && int64(len(log.events))+1 > a.Opts.MaxEvents {
		return out, ErrRoomFull
	}
	tat := time.Time{}
	if r := a.Opts.Rate; r != nil {
		var wait time.Duration
		if tat, wait = gcra(log.rates[r.Key], time.Now(), r); wait > 0 {
			return out, &RateLimitError{RetryAfter: wait}
		}
	}
	e := a.Event
	if role == "customer" {
		from := *e.From
		from.Name = s.Customer.Name
		e.From = &from
	}
	evs, enc, err := numberEvents([]Event{e}, int64(len(log.events)))
	if err != nil {
		return out, err
	}
	out.MarkedUpdated = a.MarkUpdated && !s.Updated
	touch := &Session{UpdatedAt: a.Now, Updated: a.MarkUpdated}
	if role != "customer" {
		touch.Internal.LastAgentAt = a.Now
	}
	mergeActivity(s, touch, false)
	if b, err = encodeSession(s); err != nil {
		return out, err
	}
	m.sessions[id], m.logs[id] = b, log
	log.events = append(log.events, enc...)
	if a.Opts.Rate != nil {
		if log.rates == nil {
			log.rates = map[string]time.Time{}
		}
		log.rates[a.Opts.Rate.Key] = tat
	}
	log.remember(a.Opts.Once, evs[0].Seq)
	m.indexLocked(s)
	out.Event = evs[0]
	return out, nil
}

// remember keeps a commit's name, and only the last OnceKeep names.
func (l *memLog) remember(name string, seq int64) {
	if name == "" {
		return
	}
	if l.once == nil {
		l.once = map[string]int64{}
	}
	l.once[name] = seq
	l.names = append(l.names, name)
	if len(l.names) > OnceKeep {
		delete(l.once, l.names[0])
		l.names = l.names[1:]
	}
}

func numberEvents(events []Event, last int64) ([]Event, [][]byte, error) {
	out := make([]Event, len(events))
	enc := make([][]byte, len(events))
	for i, e := range events {
		e.Seq = last + int64(i) + 1
		b, err := json.Marshal(e)
		if err != nil {
			return nil, nil, err
		}
		out[i], enc[i] = e, b
	}
	return out, enc, nil
}

func (m *MemStore) indexLocked(s *Session) {
	score := s.UpdatedAt.UnixMilli()
	for _, name := range sessionIndexes(s) {
		idx := m.indexes[name]
		if idx == nil {
			idx = map[string]int64{}
			m.indexes[name] = idx
		}
		idx[s.ID] = score
	}
	if s.State == StateActive {
		m.idle[s.ID] = s.Internal.LastAgentAt.UnixMilli()
	} else {
		delete(m.idle, s.ID)
	}
}

// sessionIndexes names the history indexes a session belongs to.
func sessionIndexes(s *Session) []string {
	names := []string{IndexAll, IndexAgent(s.AgentID)}
	if s.TeamID != "" {
		names = append(names, IndexTeam(s.TeamID))
	}
	return names
}

// Session returns one session.
func (m *MemStore) Session(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.sessions[id]
	if !ok {
		return nil, ErrNotFound
	}
	return decodeSession(b)
}

// SessionsByID returns the sessions that exist among ids, in that order.
func (m *MemStore) SessionsByID(_ context.Context, ids []string) ([]*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Session, 0, len(ids))
	for _, id := range ids {
		b, ok := m.sessions[id]
		if !ok {
			continue
		}
		s, err := decodeSession(b)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Events returns events after since.
func (m *MemStore) Events(_ context.Context, id string, since int64, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	log := m.logs[id]
	if log == nil || since >= int64(len(log.events)) {
		return nil, nil
	}
	if since < 0 {
		since = 0
	}
	end := int64(len(log.events))
	if limit > 0 && since+int64(limit) < end {
		end = since + int64(limit)
	}
	out := make([]Event, 0, end-since)
	for _, b := range log.events[since:end] {
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// LastSeq returns the log's last seq and epoch.
func (m *MemStore) LastSeq(_ context.Context, id string) (int64, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	log := m.logs[id]
	if log == nil {
		return 0, "", nil
	}
	return int64(len(log.events)), log.epoch, nil
}

// LastSeqs reads many rooms' positions.
func (m *MemStore) LastSeqs(ctx context.Context, ids []string) (map[string]LogPosition, error) {
	out := make(map[string]LogPosition, len(ids))
	for _, id := range ids {
		seq, epoch, _ := m.LastSeq(ctx, id)
		out[id] = LogPosition{Seq: seq, Epoch: epoch}
	}
	return out, nil
}

// History pages through an index, newest first. It keeps only the
// newest limit entries while scanning, so a page costs O(n log limit).
func (m *MemStore) History(_ context.Context, index string, after Cursor, since time.Time, limit int) ([]IndexEntry, error) {
	m.mu.Lock()
	top := &newestFirst{}
	min := since.UnixMilli()
	for id, score := range m.indexes[index] {
		e := IndexEntry{ID: id, Score: score}
		if score < min || !after.Admits(e) {
			continue
		}
		if top.Len() < limit {
			heap.Push(top, e)
		} else if limit > 0 && newer(e, (*top)[0]) {
			(*top)[0] = e
			heap.Fix(top, 0)
		}
	}
	m.mu.Unlock()
	out := make([]IndexEntry, top.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(top).(IndexEntry)
	}
	return out, nil
}

// newer orders history entries: later activity first, then larger id.
func newer(a, b IndexEntry) bool {
	return a.Score > b.Score || (a.Score == b.Score && a.ID > b.ID)
}

// newestFirst is a min-heap on newer: its root is the oldest entry kept.
type newestFirst []IndexEntry

func (h newestFirst) Len() int           { return len(h) }
func (h newestFirst) Less(i, j int) bool { return newer(h[j], h[i]) }
func (h newestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newestFirst) Push(x any)        { *h = append(*h, x.(IndexEntry)) }
func (h *newestFirst) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Idle lists active sessions without agent activity since before.
func (m *MemStore) Idle(_ context.Context, before time.Time, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id, at := range m.idle {
		if at < before.UnixMilli() && len(out) < limit {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

func cloneJSON[T any](v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := new(T)
	return out, json.Unmarshal(b, out)
}

// newEpoch names one incarnation of a room log.
func newEpoch() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
