// Package webhooks tells a bank's other systems what happened in Cohub:
// endpoints an admin registers, events signed per the Standard Webhooks
// spec, and a durable queue that delivers each event at least once,
// retrying for up to a day. It knows no storage engine: memqueue,
// boltqueue and redisqueue keep endpoints and deliveries, and queuetest
// is the contract all three pass.
package webhooks

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Event types an endpoint may ask for.
const (
	SessionCreated    = "session.created"
	SessionInvited    = "session.invited"
	InvitationSent    = "invitation.sent"
	InvitationFailed  = "invitation.failed"
	CustomerJoined    = "customer.joined"
	CustomerVerified  = "customer.verified"
	CustomerLocked    = "customer.locked"
	ConsentChanged    = "consent.changed"
	TaskAssigned      = "task.assigned"
	TaskCompleted     = "task.completed"
	SessionReengaged  = "session.reengaged"
	SessionEnded      = "session.ended"
	SessionRenewed    = "session.renewed"
	secretPrefix      = "whsec_"
	maxDescription    = 500
	maxURL            = 2048
	deliveryLogLength = 1000
)

// EventTypes lists every event type, in the order screens show them.
var EventTypes = []string{
	SessionCreated, SessionInvited, InvitationSent, InvitationFailed, CustomerJoined, CustomerVerified,
	CustomerLocked, ConsentChanged, TaskAssigned, TaskCompleted, SessionReengaged, SessionEnded, SessionRenewed,
}

// Event is one thing that happened, as receivers get it.
type Event struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// Endpoint is a receiver an admin registered.
type Endpoint struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Events it receives; empty: all.
	Events      []string  `json:"events"`
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	// Secret ("whsec_…") signs its deliveries. It is kept as is (the
	// signature needs it) and shown only when made.
	Secret string `json:"secret,omitempty"`
}

// Wants says whether the endpoint takes events of type typ.
func (e *Endpoint) Wants(typ string) bool {
	return e.Enabled && (len(e.Events) == 0 || slices.Contains(e.Events, typ))
}

// Public is the endpoint without its secret.
func (e Endpoint) Public() Endpoint {
	e.Secret = ""
	return e
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Delivery is one event on its way to one endpoint, and how its
// attempts went.
type Delivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
	// WebhookID is the webhook-id header: the same on every attempt, so
	// a receiver drops what it already has.
	WebhookID string    `json:"webhook_id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	// LastStatusCode is the receiver's last answer (0: none came).
	LastStatusCode int        `json:"last_status_code"`
	LastError      string     `json:"last_error"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	// GiveUpAt is when a pending delivery that still fails is marked failed.
	GiveUpAt  time.Time `json:"give_up_at"`
	CreatedAt time.Time `json:"created_at"`
	// Payload is the body every attempt sends, byte for byte.
	Payload json.RawMessage `json:"payload"`
}

// Order is the delivery's place in its endpoint's queue: by the event's
// time, in milliseconds (ties go by id).
func (d *Delivery) Order() int64 { return d.Timestamp.UnixMilli() }

// Claim is a delivery a node took to attempt, with the token that
// records its outcome.
type Claim struct {
	Delivery Delivery
	Token    string
}

// Endpoints keep the registered endpoints.
type Endpoints interface {
	// SaveEndpoint creates or replaces an endpoint.
	SaveEndpoint(ctx context.Context, e *Endpoint) error
	// Endpoint is one endpoint, secret included; rooms.ErrNotFound if none.
	Endpoint(ctx context.Context, id string) (*Endpoint, error)
	// Endpoints are all of them, oldest first.
	Endpoints(ctx context.Context) ([]Endpoint, error)
	// DeleteEndpoint removes an endpoint and its deliveries;
	// rooms.ErrNotFound if none.
	DeleteEndpoint(ctx context.Context, id string) error
}

// Queue keeps deliveries, durably. Each endpoint's pending deliveries
// go in order: only its oldest is ever due, so a receiver back from an
// outage gets them in the order of their events.
type Queue interface {
	// Enqueue adds pending deliveries, due at their NextAttemptAt.
	Enqueue(ctx context.Context, ds []Delivery) error
	// Claim takes up to max due deliveries (at most one per endpoint)
	// for lease: no other claim takes them until it ends, and one not
	// finished by then comes due again (its node died).
	Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Claim, error)
	// Finish records an attempt's outcome under the claim's token: still
	// pending (due again at NextAttemptAt), delivered or failed (the
	// endpoint's next delivery comes due). False: the claim was lost.
	Finish(ctx context.Context, token string, d Delivery) (bool, error)
	// Requeue makes a delivery pending again, due at its NextAttemptAt,
	// whatever its status (a manual retry).
	Requeue(ctx context.Context, d Delivery) error
	// Delivery is one of an endpoint's deliveries; rooms.ErrNotFound if none.
	Delivery(ctx context.Context, endpointID, id string) (*Delivery, error)
	// Deliveries are an endpoint's latest deliveries, newest first (the
	// last deliveryLogLength are kept, and every pending one).
	Deliveries(ctx context.Context, endpointID string, limit int) ([]Delivery, error)
}

// Store is both roles, as each engine provides them.
type Store interface {
	Endpoints
	Queue
}

// LogLength is how many finished deliveries an endpoint's log keeps.
const LogLength = deliveryLogLength
