package boltstore

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/rooms"
)

// RebaseLog begins a new epoch for a caller ahead of the log. A log on
// disk never goes backwards, so this happens only to a log that was
// restored from an older backup, or removed whole.
func (s *Store) RebaseLog(_ context.Context, id, epoch string, seen int64) (rooms.LogPosition, error) {
	var pos rooms.LogPosition
	err := s.update(func(tx *bolt.Tx) error {
		log := logIn(tx, id)
		pos = rooms.LogPosition{Seq: log.last(), Epoch: log.epoch()}
		if pos.Epoch != epoch || pos.Seq >= seen {
			return nil
		}
		lb, err := tx.Bucket(bLogs).CreateBucketIfNotExists([]byte(id))
		if err != nil {
			return err
		}
		pos.Epoch = rooms.NewEpoch()
		return lb.Put(kEpoch, []byte(pos.Epoch))
	})
	return pos, err
}

// RewriteLog rewrites the events fn changes, in place.
func (s *Store) RewriteLog(_ context.Context, id string, fn func(rooms.Event) (rooms.Event, bool)) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		log := logIn(tx, id)
		if log.b == nil || log.b.Bucket(bEvents) == nil {
			return nil
		}
		eb := log.b.Bucket(bEvents)
		type change struct{ k, v []byte }
		var changes []change
		err := eb.ForEach(func(k, v []byte) error {
			var e rooms.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out, changed := fn(e)
			if !changed {
				return nil
			}
			nb, err := json.Marshal(out)
			changes = append(changes, change{append([]byte(nil), k...), nb})
			return err
		})
		if err != nil {
			return err
		}
		for _, c := range changes {
			if err := eb.Put(c.k, c.v); err != nil {
				return err
			}
		}
		n = len(changes)
		return nil
	})
	return n, err
}
