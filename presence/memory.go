package presence

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Memory is presence for one process: the embedded backend, and tests
// that run several nodes on one memory store.
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
	m.nodes[node] = until
	return nil
}

// Leave sets the expiry of tracked connections.
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

// Rooms returns the live entries of each room.
func (m *Memory) Rooms(_ context.Context, rooms []string, now time.Time) (map[string][]Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]Conn, len(rooms))
	for _, id := range rooms {
		var live []Conn
		for cid, e := range m.rooms[id] {
			if e.expiry.After(now) {
				live = append(live, e.conn)
			} else {
				delete(m.rooms[id], cid)
			}
		}
		if len(m.rooms[id]) == 0 {
			delete(m.rooms, id)
		}
		sort.Slice(live, func(i, j int) bool { return live[i].ID < live[j].ID })
		out[id] = live
	}
	return out, nil
}

// Reap removes the entries of nodes whose liveness ran out.
func (m *Memory) Reap(_ context.Context, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var changed []string
	for node, until := range m.nodes {
		if until.After(now) {
			continue
		}
		delete(m.nodes, node)
		for id, r := range m.rooms {
			n := len(r)
			for cid, e := range r {
				if e.conn.Node == node {
					delete(r, cid)
				}
			}
			if len(r) < n {
				changed = append(changed, id)
			}
			if len(r) == 0 {
				delete(m.rooms, id)
			}
		}
	}
	sort.Strings(changed)
	return changed, nil
}
