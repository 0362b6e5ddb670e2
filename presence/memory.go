package presence

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// Memory is presence for one process: the embedded backend, and tests
// that run several nodes on one memory store. Same semantics as Redis.
type Memory struct {
	mu    sync.Mutex
	rooms map[string]map[string]memEntry // room -> conn id -> entry
	nodes map[string]time.Time           // node -> alive until
}

type memEntry struct {
	conn   Conn
	expiry time.Time
}

var _ Tracker = (*Memory)(nil)

// NewMemory returns an empty tracker.
func NewMemory() *Memory {
	return &Memory{rooms: map[string]map[string]memEntry{}, nodes: map[string]time.Time{}}
}

// Refresh upserts a node's connections.
func (m *Memory) Refresh(_ context.Context, node string, conns []Conn, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range conns {
		r := m.rooms[c.Room]
		if r == nil {
			r = map[string]memEntry{}
			m.rooms[c.Room] = r
		}
		r[c.ID] = memEntry{conn: c, expiry: until}
	}
	return nil
}

// Alive marks a node alive until then.
func (m *Memory) Alive(_ context.Context, node string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes[node] = until
	return nil
}

// Leave sets the expiry of tracked connections; like ZADD XX it never
// adds one.
func (m *Memory) Leave(_ context.Context, conns []Conn, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range conns {
		if e, ok := m.rooms[c.Room][c.ID]; ok {
			e.expiry = at
			m.rooms[c.Room][c.ID] = e
		}
	}
	return nil
}

// Rooms returns the live entries of each room, sorted by ID.
func (m *Memory) Rooms(_ context.Context, rooms []string, now time.Time) (map[string][]Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]Conn, len(rooms))
	for _, id := range rooms {
		m.sweep(id, now)
		var live []Conn
		for _, e := range m.rooms[id] {
			live = append(live, e.conn)
		}
		sortByID(live)
		out[id] = live
	}
	return out, nil
}

// sweep drops a room's expired entries, and the room once it is empty.
func (m *Memory) sweep(room string, now time.Time) {
	r := m.rooms[room]
	for cid, e := range r {
		if !e.expiry.After(now) {
			delete(r, cid)
		}
	}
	if len(r) == 0 {
		delete(m.rooms, room)
	}
}

// Reap removes the entries of nodes whose liveness ran out (until <= now)
// and reports the rooms that lost one. It then sweeps every room: Redis
// keys expire on their own, memory would otherwise keep rooms nobody
// reads any more.
func (m *Memory) Reap(_ context.Context, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dead := map[string]bool{}
	for node, until := range m.nodes {
		if !until.After(now) {
			dead[node] = true
			delete(m.nodes, node)
		}
	}
	changed := map[string]bool{}
	for id, r := range m.rooms {
		for cid, e := range r {
			if dead[e.conn.Node] {
				delete(r, cid)
				changed[id] = true
			}
		}
		m.sweep(id, now)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return slices.Sorted(maps.Keys(changed)), nil
}
