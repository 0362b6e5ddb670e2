package memstore

import (
	"context"

	"github.com/cohub/cohub/rooms"
)

var _ rooms.LogRebaser = (*Store)(nil)

// RebaseLog does what the Redis store's does; a memory log never goes
// backwards, so this only begins an epoch for a caller ahead of it.
func (m *Store) RebaseLog(_ context.Context, id, epoch string, seen int64) (rooms.LogPosition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	log := m.logs[id]
	cur := ""
	if log != nil {
		cur = log.epoch
	}
	seq := int64(0)
	if log != nil {
		seq = int64(len(log.events))
	}
	if cur != epoch || seq >= seen {
		return rooms.LogPosition{Seq: seq, Epoch: cur}, nil
	}
	if log == nil {
		log = &memLog{}
		m.logs[id] = log
	}
	log.epoch = rooms.NewEpoch()
	return rooms.LogPosition{Seq: seq, Epoch: log.epoch}, nil
}
