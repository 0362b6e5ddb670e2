package boltstore

import (
	"context"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/rooms"
)

// An index is a bucket of score+id keys, which sort as newest last: the
// score as a big-endian number with its sign bit flipped, then the id.
// Beside it, idxpos keeps each id's score, to find its key again.
func indexKey(score int64, id string) []byte {
	return append(u64(uint64(score)^1<<63), id...)
}

func keyEntry(k []byte) rooms.IndexEntry {
	return rooms.IndexEntry{ID: string(k[8:]), Score: int64(uint64(i64(k)) ^ 1<<63)}
}

// index lists the session in its history indexes at its activity, and
// in the idle index while it is active.
func index(tx *bolt.Tx, sess *rooms.Session) error {
	score, id := sess.UpdatedAt.UnixMilli(), []byte(sess.ID)
	for _, name := range rooms.SessionIndexes(sess) {
		idx, err := tx.Bucket(bIdx).CreateBucketIfNotExists([]byte(name))
		if err != nil {
			return err
		}
		pos, err := tx.Bucket(bIdxPos).CreateBucketIfNotExists([]byte(name))
		if err != nil {
			return err
		}
		if old := pos.Get(id); old != nil {
			if i64(old) == score {
				continue
			}
			if err := idx.Delete(indexKey(i64(old), sess.ID)); err != nil {
				return err
			}
		}
		if err := idx.Put(indexKey(score, sess.ID), nil); err != nil {
			return err
		}
		if err := pos.Put(id, u64(uint64(score))); err != nil {
			return err
		}
	}
	if sess.State == rooms.StateActive {
		return tx.Bucket(bIdle).Put(id, u64(uint64(sess.Internal.LastAgentAt.UnixMilli())))
	}
	return tx.Bucket(bIdle).Delete(id)
}

// History pages through an index, newest first, strictly after the
// cursor and not older than since.
func (s *Store) History(_ context.Context, index string, after rooms.Cursor, since time.Time, limit int) ([]rooms.IndexEntry, error) {
	out := []rooms.IndexEntry{}
	err := s.db.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bIdx).Bucket([]byte(index))
		if idx == nil || limit <= 0 {
			return nil
		}
		c := idx.Cursor()
		var k []byte
		if after.ID == "" {
			k, _ = c.Last()
		} else if k, _ = c.Seek(indexKey(after.Score, after.ID)); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev() // Seek lands on the cursor's own key or the first after it
		}
		min := since.UnixMilli()
		for ; k != nil && len(out) < limit; k, _ = c.Prev() {
			e := keyEntry(k)
			if e.Score < min {
				break
			}
			if after.Admits(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// Idle lists active sessions whose last agent activity is before t,
// oldest first.
func (s *Store) Idle(_ context.Context, before time.Time, limit int) ([]string, error) {
	type idle struct {
		id string
		at int64
	}
	var all []idle
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bIdle).ForEach(func(k, v []byte) error {
			if at := i64(v); at < before.UnixMilli() {
				all = append(all, idle{string(k), at})
			}
			return nil
		})
	})
	sort.Slice(all, func(i, j int) bool {
		return all[i].at < all[j].at || (all[i].at == all[j].at && all[i].id < all[j].id)
	})
	out := []string{}
	for _, e := range all[:min(limit, len(all))] {
		out = append(out, e.id)
	}
	return out, err
}
