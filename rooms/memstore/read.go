package memstore

import (
	"context"
	"maps"

	"github.com/cohub/cohub/rooms"
)

var _ rooms.ReadHorizons = (*Store)(nil)

// RaiseHorizon raises reader's horizon, never down nor past the log.
func (m *Store) RaiseHorizon(_ context.Context, id, reader string, seq int64) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.read[id][reader]
	head := int64(0)
	if log := m.logs[id]; log != nil {
		head = int64(len(log.events))
	}
	if seq <= cur || seq > head {
		return cur, false, nil
	}
	if m.read[id] == nil {
		m.read[id] = map[string]int64{}
	}
	m.read[id][reader] = seq
	return seq, true, nil
}

// Horizons copies the sessions' horizons.
func (m *Store) Horizons(_ context.Context, ids []string) (map[string]map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]map[string]int64{}
	for _, id := range ids {
		if h := m.read[id]; len(h) > 0 {
			out[id] = maps.Clone(h)
		}
	}
	return out, nil
}
