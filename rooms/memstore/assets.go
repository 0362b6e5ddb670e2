package memstore

import (
	"context"
	"sort"
	"sync"

	"github.com/cohub/cohub/rooms"
)

// memAssets is the embedded AssetStore.
type memAssets struct {
	mu       sync.Mutex
	assets   map[string]map[string][]byte // session → asset id → record
	sessions map[string]bool
}

func (m *memAssets) init() {
	if m.assets == nil {
		m.assets, m.sessions = map[string]map[string][]byte{}, map[string]bool{}
	}
}

// PutAsset writes the record.
func (m *Store) PutAsset(_ context.Context, a *rooms.Asset) error {
	b, err := rooms.EncodeAsset(a)
	if err != nil {
		return err
	}
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	m.am.init()
	if m.am.assets[a.SessionID] == nil {
		m.am.assets[a.SessionID] = map[string][]byte{}
	}
	m.am.assets[a.SessionID][a.ID] = b
	if a.DeletedAt == nil {
		m.am.sessions[a.SessionID] = true
	}
	return nil
}

// DeleteAsset removes a record.
func (m *Store) DeleteAsset(_ context.Context, sessionID, id string) error {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	delete(m.am.assets[sessionID], id)
	return nil
}

// Asset returns one record.
func (m *Store) Asset(_ context.Context, sessionID, id string) (*rooms.Asset, error) {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	b, ok := m.am.assets[sessionID][id]
	if !ok {
		return nil, rooms.ErrNotFound
	}
	return rooms.DecodeAsset(b)
}

// Assets lists a session's records, oldest first.
func (m *Store) Assets(_ context.Context, sessionID string) ([]*rooms.Asset, error) {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	out := []*rooms.Asset{}
	for _, b := range m.am.assets[sessionID] {
		a, err := rooms.DecodeAsset(b)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	rooms.SortAssets(out)
	return out, nil
}

// AssetSessions lists sessions that keep blobs, in id order.
func (m *Store) AssetSessions(_ context.Context, after string, limit int) ([]string, error) {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	var ids []string
	for id := range m.am.sessions {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// ForgetAssetSession drops a session from AssetSessions.
func (m *Store) ForgetAssetSession(_ context.Context, sessionID string) error {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	delete(m.am.sessions, sessionID)
	return nil
}

var _ rooms.AssetStore = (*Store)(nil)
