package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
)

// Tickets keeps the WebSocket's tickets in this process, apart from the
// store's one lock: a socket's opening never waits on a commit. The
// embedded disk store keeps its tickets here too: a ticket lives 30 s,
// and one lost in a restart is asked for again.
type Tickets struct {
	mu sync.Mutex
	m  map[string]memTicket
}

type memTicket struct {
	sealed []byte
	until  time.Time
}

// PutTicket keeps a sealed ticket until ttl passes.
func (t *Tickets) PutTicket(_ context.Context, hash string, sealed []byte, ttl time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if t.m == nil {
		t.m = map[string]memTicket{}
	}
	// Tickets never used would pile up: past a thousand, the expired go.
	if len(t.m) >= 1024 {
		for h, tk := range t.m {
			if now.After(tk.until) {
				delete(t.m, h)
			}
		}
	}
	t.m[hash] = memTicket{sealed: append([]byte(nil), sealed...), until: now.Add(ttl)}
	return nil
}

// TakeTicket returns a live ticket and forgets it.
func (t *Tickets) TakeTicket(_ context.Context, hash string) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tk, ok := t.m[hash]
	delete(t.m, hash)
	if !ok || time.Now().After(tk.until) {
		return nil, rooms.ErrNotFound
	}
	return tk.sealed, nil
}
