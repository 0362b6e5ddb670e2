// Package memstore is the embedded store: every role of rooms.Store,
// rooms.AssetStore and rooms.LogRebaser in this process's memory. The
// contract suite (rooms/storetest) runs against it and the Redis store.
package memstore

import (
	"container/heap"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
)

// Store is the embedded backend: everything in this process's memory.
// Records are kept encoded, so callers never share memory with the store.
type Store struct {
	mu       sync.Mutex
	agents   map[string][]byte
	emails   map[string]string
	teams    map[string]*rooms.Team
	settings *rooms.Settings
	tokens   map[string]memToken
	hits     map[string]memHit
	once     map[string]bool
	sessions map[string][]byte
	logs     map[string]*memLog
	indexes  map[string]map[string]int64
	idle     map[string]int64
	// read is each session's read horizons: reader → seq.
	read map[string]map[string]int64

	am   memAssets
	keys memKeys
	// Tickets are the WebSocket's tickets (PutTicket, TakeTicket).
	Tickets

	// publish, when set, receives each commit's events in seq order
	// after the commit; it must not block (the memory bus hands them on).
	publish func(sessionID string, events []rooms.Event)
}

type memToken struct {
	token rooms.LoginToken
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

var _ rooms.Store = (*Store)(nil)

// New returns an empty in-memory store. publish, when not nil, receives
// each commit's events in seq order after the commit, as the Redis
// store publishes them on the room's channel; it must not block.
func New(publish func(sessionID string, events []rooms.Event)) *Store {
	return &Store{
		publish:  publish,
		agents:   map[string][]byte{},
		emails:   map[string]string{},
		teams:    map[string]*rooms.Team{},
		tokens:   map[string]memToken{},
		hits:     map[string]memHit{},
		once:     map[string]bool{},
		sessions: map[string][]byte{},
		logs:     map[string]*memLog{},
		indexes:  map[string]map[string]int64{},
		idle:     map[string]int64{},
		read:     map[string]map[string]int64{},
	}
}

// Ping always succeeds: memory is always there.
func (m *Store) Ping(context.Context) error { return nil }

// CreateAgent stores a new agent with a unique email.
func (m *Store) CreateAgent(_ context.Context, a *rooms.Agent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	email := strings.ToLower(a.Email)
	if _, ok := m.emails[email]; ok {
		return rooms.ErrEmailTaken
	}
	b, err := rooms.EncodeAgent(a)
	if err != nil {
		return err
	}
	m.emails[email] = a.ID
	m.agents[a.ID] = b
	return nil
}

// UpdateAgent replaces an existing agent.
func (m *Store) UpdateAgent(_ context.Context, a *rooms.Agent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.agents[a.ID]
	if !ok {
		return rooms.ErrNotFound
	}
	prev, err := rooms.DecodeAgent(old)
	if err != nil {
		return err
	}
	email, prevEmail := strings.ToLower(a.Email), strings.ToLower(prev.Email)
	if id, ok := m.emails[email]; ok && id != a.ID {
		return rooms.ErrEmailTaken
	}
	b, err := rooms.EncodeAgent(a)
	if err != nil {
		return err
	}
	delete(m.emails, prevEmail)
	m.emails[email] = a.ID
	m.agents[a.ID] = b
	return nil
}

// Agent returns one agent.
func (m *Store) Agent(_ context.Context, id string) (*rooms.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.agentLocked(id)
}

func (m *Store) agentLocked(id string) (*rooms.Agent, error) {
	b, ok := m.agents[id]
	if !ok {
		return nil, rooms.ErrNotFound
	}
	return rooms.DecodeAgent(b)
}

// AgentByEmail finds an agent by email, case-insensitively.
func (m *Store) AgentByEmail(_ context.Context, email string) (*rooms.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.emails[strings.ToLower(email)]
	if !ok {
		return nil, rooms.ErrNotFound
	}
	return m.agentLocked(id)
}

// ListAgents returns every agent, by email.
func (m *Store) ListAgents(_ context.Context) ([]*rooms.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*rooms.Agent, 0, len(m.agents))
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
func (m *Store) PutTeam(_ context.Context, t *rooms.Team) error {
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
func (m *Store) Team(_ context.Context, id string) (*rooms.Team, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.teams[id]
	if !ok {
		return nil, rooms.ErrNotFound
	}
	return cloneJSON(t)
}

// ListTeams returns every team, by name.
func (m *Store) ListTeams(_ context.Context) ([]*rooms.Team, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*rooms.Team, 0, len(m.teams))
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
func (m *Store) Settings(_ context.Context) (rooms.Settings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settings == nil {
		return rooms.DefaultSettings(), nil
	}
	return *m.settings, nil
}

// PutSettings replaces the org settings.
func (m *Store) PutSettings(_ context.Context, s rooms.Settings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settings = &s
	return nil
}

// PutToken stores a login token hash.
func (m *Store) PutToken(_ context.Context, hash string, t rooms.LoginToken, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[hash] = memToken{token: t, until: time.Now().Add(ttl)}
	return nil
}

// Token resolves a live token hash.
func (m *Store) Token(_ context.Context, hash string) (rooms.LoginToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[hash]
	if !ok || time.Now().After(t.until) {
		delete(m.tokens, hash)
		return rooms.LoginToken{}, rooms.ErrNotFound
	}
	return t.token, nil
}

// DeleteToken forgets a token.
func (m *Store) DeleteToken(_ context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, hash)
	return nil
}

// Commit writes the session and appends its events atomically.
func (m *Store) Commit(_ context.Context, s *rooms.Session, events []rooms.Event, opts rooms.CommitOptions) ([]rooms.Event, error) {
	m.mu.Lock()
	out, err := m.commitLocked(s, events, opts)
	publish := m.publish
	m.mu.Unlock()
	if err == nil && publish != nil && len(out) > 0 {
		publish(s.ID, out)
	}
	return out, err
}

func (m *Store) commitLocked(s *rooms.Session, events []rooms.Event, opts rooms.CommitOptions) ([]rooms.Event, error) {
	log := m.logs[s.ID]
	if log == nil {
		log = &memLog{epoch: rooms.NewEpoch()}
	}
	if seq, ok := log.once[opts.Once]; ok && opts.Once != "" {
		return nil, &rooms.DuplicateError{LastSeq: seq}
	}
	cur, ok := m.sessions[s.ID]
	version := int64(0)
	if ok {
		prev, err := rooms.DecodeSession(cur)
		if err != nil {
			return nil, err
		}
		version = prev.Internal.Version
		if version == s.Internal.Version {
			rooms.MergeActivity(s, prev, opts.ClearUpdated)
		}
	}
	if version != s.Internal.Version {
		return nil, rooms.ErrConflict
	}
	if opts.MaxEvents > 0 && int64(len(log.events)+len(events)) > opts.MaxEvents {
		return nil, rooms.ErrRoomFull
	}
	tat := time.Time{}
	if r := opts.Rate; r != nil {
		var wait time.Duration
		if tat, wait = rooms.GCRA(log.rates[r.Key], time.Now(), r); wait > 0 {
			return nil, &rooms.RateLimitError{RetryAfter: wait}
		}
	}
	s.Internal.Version++
	b, err := rooms.EncodeSession(s)
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
func (m *Store) Append(_ context.Context, id string, a rooms.MessageAppend) (rooms.Appended, error) {
	m.mu.Lock()
	out, err := m.appendLocked(id, a)
	publish := m.publish
	m.mu.Unlock()
	if err == nil && publish != nil {
		publish(id, []rooms.Event{out.Event})
	}
	return out, err
}

func (m *Store) appendLocked(id string, a rooms.MessageAppend) (rooms.Appended, error) {
	b, ok := m.sessions[id]
	if !ok {
		return rooms.Appended{}, rooms.ErrNotFound
	}
	s, err := rooms.DecodeSession(b)
	if err != nil {
		return rooms.Appended{}, err
	}
	out := rooms.Appended{AgentID: s.AgentID, TeamID: s.TeamID}
	log := m.logs[id]
	if log == nil {
		log = &memLog{epoch: rooms.NewEpoch()}
	}
	if seq, ok := log.once[a.Opts.Once]; ok && a.Opts.Once != "" {
		out.Event = a.Event
		out.Event.Seq = seq
		return out, &rooms.DuplicateError{LastSeq: seq}
	}
	role := a.Event.From.Role
	if err := rooms.WriteGate(s, role, a.Now); err != nil {
		return out, err
	}
	if a.Opts.MaxEvents > 0 && int64(len(log.events))+1 > a.Opts.MaxEvents {
		return out, rooms.ErrRoomFull
	}
	tat := time.Time{}
	if r := a.Opts.Rate; r != nil {
		var wait time.Duration
		if tat, wait = rooms.GCRA(log.rates[r.Key], time.Now(), r); wait > 0 {
			return out, &rooms.RateLimitError{RetryAfter: wait}
		}
	}
	var e rooms.Event
	e, out.MarkedUpdated = rooms.AppendTouch(s, a)
	evs, enc, err := numberEvents([]rooms.Event{e}, int64(len(log.events)))
	if err != nil {
		return out, err
	}
	if b, err = rooms.EncodeSession(s); err != nil {
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
	if len(l.names) > rooms.OnceKeep {
		delete(l.once, l.names[0])
		l.names = l.names[1:]
	}
}

func numberEvents(events []rooms.Event, last int64) ([]rooms.Event, [][]byte, error) {
	out := make([]rooms.Event, len(events))
	enc := make([][]byte, len(events))
	for i, e := range events {
		e.Seq = last + int64(i) + 1
		b, err := rooms.MarshalEvent(e)
		if err != nil {
			return nil, nil, err
		}
		out[i], enc[i] = e, b
	}
	return out, enc, nil
}

func (m *Store) indexLocked(s *rooms.Session) {
	score := s.UpdatedAt.UnixMilli()
	for _, name := range rooms.SessionIndexes(s) {
		idx := m.indexes[name]
		if idx == nil {
			idx = map[string]int64{}
			m.indexes[name] = idx
		}
		idx[s.ID] = score
	}
	if s.State == rooms.StateActive {
		m.idle[s.ID] = s.Internal.LastAgentAt.UnixMilli()
	} else {
		delete(m.idle, s.ID)
	}
}

// Session returns one session.
func (m *Store) Session(_ context.Context, id string) (*rooms.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.sessions[id]
	if !ok {
		return nil, rooms.ErrNotFound
	}
	return rooms.DecodeSession(b)
}

// SessionsByID returns the sessions that exist among ids, in that order.
func (m *Store) SessionsByID(_ context.Context, ids []string) ([]*rooms.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*rooms.Session, 0, len(ids))
	for _, id := range ids {
		b, ok := m.sessions[id]
		if !ok {
			continue
		}
		s, err := rooms.DecodeSession(b)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Events returns events after since.
func (m *Store) Events(_ context.Context, id string, since int64, limit int) ([]rooms.Event, error) {
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
	out := make([]rooms.Event, 0, end-since)
	for _, b := range log.events[since:end] {
		var e rooms.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// LastSeq returns the log's last seq and epoch.
func (m *Store) LastSeq(_ context.Context, id string) (int64, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	log := m.logs[id]
	if log == nil {
		return 0, "", nil
	}
	return int64(len(log.events)), log.epoch, nil
}

// LastSeqs reads many rooms' positions.
func (m *Store) LastSeqs(ctx context.Context, ids []string) (map[string]rooms.LogPosition, error) {
	out := make(map[string]rooms.LogPosition, len(ids))
	for _, id := range ids {
		seq, epoch, _ := m.LastSeq(ctx, id)
		out[id] = rooms.LogPosition{Seq: seq, Epoch: epoch}
	}
	return out, nil
}

// History pages through an index, newest first. It keeps only the
// newest limit entries while scanning, so a page costs O(n log limit).
func (m *Store) History(_ context.Context, index string, after rooms.Cursor, since time.Time, limit int) ([]rooms.IndexEntry, error) {
	m.mu.Lock()
	top := &newestFirst{}
	min := since.UnixMilli()
	for id, score := range m.indexes[index] {
		e := rooms.IndexEntry{ID: id, Score: score}
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
	out := make([]rooms.IndexEntry, top.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(top).(rooms.IndexEntry)
	}
	return out, nil
}

// newer orders history entries: later activity first, then larger id.
func newer(a, b rooms.IndexEntry) bool {
	return a.Score > b.Score || (a.Score == b.Score && a.ID > b.ID)
}

// newestFirst is a min-heap on newer: its root is the oldest entry kept.
type newestFirst []rooms.IndexEntry

func (h newestFirst) Len() int           { return len(h) }
func (h newestFirst) Less(i, j int) bool { return newer(h[j], h[i]) }
func (h newestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newestFirst) Push(x any)        { *h = append(*h, x.(rooms.IndexEntry)) }
func (h *newestFirst) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Idle lists active sessions without agent activity since before.
func (m *Store) Idle(_ context.Context, before time.Time, limit int) ([]string, error) {
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
