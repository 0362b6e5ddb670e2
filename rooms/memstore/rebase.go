package memstore

import (
	"context"
	"encoding/json"

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

var _ rooms.LogRewriter = (*Store)(nil)

// RewriteLog rewrites the events fn changes, in place.
func (m *Store) RewriteLog(_ context.Context, id string, fn func(rooms.Event) (rooms.Event, bool)) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	log := m.logs[id]
	if log == nil {
		return 0, nil
	}
	n := 0
	for i, b := range log.events {
		var e rooms.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return n, err
		}
		out, changed := fn(e)
		if !changed {
			continue
		}
		nb, err := json.Marshal(out)
		if err != nil {
			return n, err
		}
		log.events[i] = nb
		n++
	}
	return n, nil
}
