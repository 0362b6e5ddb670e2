package notify

import "context"

// Outbox is the default sender: it keeps what it "sends" so that admins
// can read it (GET /api/outbox), which is how a deployment without SMTP
// or an SMS provider still works end to end.
type Outbox interface {
	Sender
	// List returns up to limit messages, newest first.
	List(ctx context.Context, limit int) ([]Message, error)
}

// defaultOutboxSize is how many messages an outbox keeps.
const defaultOutboxSize = 1000
