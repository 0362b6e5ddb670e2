package boltstore

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/rooms"
)

var _ rooms.ReadHorizons = (*Store)(nil)

// readKey is a horizon's key: the session id, a zero byte (ids never
// hold one), the reader, so one session's horizons are one prefix.
func readKey(id, reader string) []byte {
	return append(append([]byte(id), 0), reader...)
}

// RaiseHorizon raises reader's horizon in one transaction with the read
// of the log's end, never down nor past it.
func (s *Store) RaiseHorizon(_ context.Context, id, reader string, seq int64) (int64, bool, error) {
	cur, raised := int64(0), false
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRead)
		key := readKey(id, reader)
		cur = i64(b.Get(key))
		if seq <= cur || seq > logIn(tx, id).last() {
			return nil
		}
		cur, raised = seq, true
		return b.Put(key, u64(uint64(seq)))
	})
	return cur, raised, err
}

// Horizons reads each session's prefix.
func (s *Store) Horizons(_ context.Context, ids []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRead).Cursor()
		for _, id := range ids {
			prefix := readKey(id, "")
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if out[id] == nil {
					out[id] = map[string]int64{}
				}
				out[id][string(k[len(prefix):])] = i64(v)
			}
		}
		return nil
	})
	return out, err
}
