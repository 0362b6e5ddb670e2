package notify

import (
	"context"
	"sync"
	"time"
)

// MemoryOutbox keeps the newest messages in memory.
type MemoryOutbox struct {
	mu   sync.Mutex
	max  int
	msgs []Message // oldest first
}

var _ Outbox = (*MemoryOutbox)(nil)

// NewMemoryOutbox keeps the newest max messages. Zero means 1000.
func NewMemoryOutbox(max int) *MemoryOutbox {
	if max <= 0 {
		max = defaultOutboxSize
	}
	return &MemoryOutbox{max: max}
}

// Send stores the message.
func (o *MemoryOutbox) Send(_ context.Context, m Message) error {
	if m.At.IsZero() {
		m.At = time.Now().UTC()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	// Trim in bulk, not per message, so a full outbox does not copy
	// itself on every send.
	if len(o.msgs) >= 2*o.max {
		o.msgs = append([]Message(nil), o.msgs[len(o.msgs)-o.max:]...)
	}
	return nil
}

// List returns up to limit messages, newest first.
func (o *MemoryOutbox) List(_ context.Context, limit int) ([]Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	limit = min(limit, o.max, len(o.msgs))
	out := make([]Message, 0, limit)
	for i := len(o.msgs) - 1; len(out) < limit; i-- {
		out = append(out, o.msgs[i])
	}
	return out, nil
}
