package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
)

// memKeys keeps the API keys, by id and by hash.
type memKeys struct {
	mu     sync.Mutex
	byID   map[string]rooms.APIKey
	byHash map[string]string
}

// PutAPIKey stores a new key.
func (m *Store) PutAPIKey(_ context.Context, k rooms.APIKey) error {
	ks := &m.keys
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.byID == nil {
		ks.byID, ks.byHash = map[string]rooms.APIKey{}, map[string]string{}
	}
	ks.byID[k.ID] = k
	ks.byHash[k.Hash] = k.ID
	return nil
}

// APIKeyByHash finds a key by its hash.
func (m *Store) APIKeyByHash(_ context.Context, hash string) (rooms.APIKey, error) {
	ks := &m.keys
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k, ok := ks.byID[ks.byHash[hash]]
	if !ok {
		return rooms.APIKey{}, rooms.ErrNotFound
	}
	return k, nil
}

// ListAPIKeys returns every key.
func (m *Store) ListAPIKeys(_ context.Context) ([]rooms.APIKey, error) {
	ks := &m.keys
	ks.mu.Lock()
	defer ks.mu.Unlock()
	out := make([]rooms.APIKey, 0, len(ks.byID))
	for _, k := range ks.byID {
		out = append(out, k)
	}
	return out, nil
}

// DeleteAPIKey forgets a key.
func (m *Store) DeleteAPIKey(_ context.Context, id string) error {
	ks := &m.keys
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k, ok := ks.byID[id]
	if !ok {
		return rooms.ErrNotFound
	}
	delete(ks.byID, id)
	delete(ks.byHash, k.Hash)
	return nil
}

// TouchAPIKey records a use.
func (m *Store) TouchAPIKey(_ context.Context, id string, at time.Time) error {
	ks := &m.keys
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if k, ok := ks.byID[id]; ok {
		at = at.UTC()
		k.LastUsedAt = &at
		ks.byID[id] = k
	}
	return nil
}
