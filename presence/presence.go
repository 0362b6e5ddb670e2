// Package presence tracks who is connected to which room, across nodes,
// with entries that expire unless their node refreshes them. The hub
// feeds it; the indicator reads it.
package presence

import (
	"context"
	"time"
)

// Roles of a connection.
const (
	RoleAgent    = "agent"
	RoleCustomer = "customer"
)

// Conn is one live WebSocket connection joined to one room.
type Conn struct {
	ID      string `json:"id"`   // unique across nodes and time
	Room    string `json:"room"` // session id
	Role    string `json:"role"` // RoleAgent or RoleCustomer
	AgentID string `json:"agent_id,omitempty"`
	Name    string `json:"name,omitempty"`
	Node    string `json:"node"`
}

// Tracker is presence storage: Memory for one node, Redis for many.
// An entry is live while its expiry is after now.
type Tracker interface {
	// Refresh upserts conns (all of one node) with expiry until, in one
	// batch.
	Refresh(ctx context.Context, node string, conns []Conn, until time.Time) error
	// Alive marks a node alive until then: once that passes, Reap removes
	// the node's entries, however long their own expiry. A node keeps its
	// connections present by refreshing its liveness (one write), not
	// every entry.
	Alive(ctx context.Context, node string, until time.Time) error
	// Leave sets the expiry of conns that are still tracked to at (the
	// leave grace); conns no longer tracked are left alone.
	Leave(ctx context.Context, conns []Conn, at time.Time) error
	// Rooms returns the live entries of each room at now, removing the
	// expired ones it sees. Rooms without live entries map to nil.
	Rooms(ctx context.Context, rooms []string, now time.Time) (map[string][]Conn, error)
	// Reap finds nodes whose liveness ran out before now, removes their
	// entries and reports the rooms that lost entries. Safe on many nodes
	// at once: each dead node is reaped by one caller.
	Reap(ctx context.Context, now time.Time) ([]string, error)
}

// CustomerOnline reports whether any of conns is a customer's.
func CustomerOnline(conns []Conn) bool {
	for _, c := range conns {
		if c.Role == RoleCustomer {
			return true
		}
	}
	return false
}
