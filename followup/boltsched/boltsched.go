// Package boltsched keeps the follow-up schedule in the embedded store's
// bbolt file: a restart of the single-node server keeps every wake-up,
// and a backup holds them. Each call is one transaction.
//
// Top-level buckets, beside the store's own:
//
//	followup.due    session id → due (ms, 8 bytes big-endian)
//	followup.order  due (ms) + session id → 1: the due times in order
//	followup.lease  session id → the token of the claim holding it
//	followup.asked  session id → 1: Sooner asked while it was claimed
package boltsched

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/followup"
)

var (
	bDue   = []byte("followup.due")
	bOrder = []byte("followup.order")
	bLease = []byte("followup.lease")
	bAsked = []byte("followup.asked")
)

// Schedule is the bbolt engine.
type Schedule struct {
	db *bolt.DB
}

var _ followup.Schedule = (*Schedule)(nil)

// New keeps the schedule in db, creating its buckets when missing.
func New(db *bolt.DB) (*Schedule, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bDue, bOrder, bLease, bAsked} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Schedule{db: db}, nil
}

// buckets are one transaction's view of the schedule.
type buckets struct{ due, order, lease, asked *bolt.Bucket }

func open(tx *bolt.Tx) buckets {
	return buckets{tx.Bucket(bDue), tx.Bucket(bOrder), tx.Bucket(bLease), tx.Bucket(bAsked)}
}

func ms(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixMilli())) }

func orderKey(at []byte, id string) []byte { return append(append([]byte(nil), at...), id...) }

// set makes id due at at, or removes it when at is nil.
func (b buckets) set(id string, at []byte) error {
	if cur := b.due.Get([]byte(id)); cur != nil {
		if err := b.order.Delete(orderKey(cur, id)); err != nil {
			return err
		}
	}
	if at == nil {
		return b.due.Delete([]byte(id))
	}
	if err := b.due.Put([]byte(id), at); err != nil {
		return err
	}
	return b.order.Put(orderKey(at, id), []byte{1})
}

// sooner sets id's due time to at unless it is due earlier already.
func (b buckets) sooner(id string, at []byte) error {
	if cur := b.due.Get([]byte(id)); cur != nil && bytes.Compare(cur, at) <= 0 {
		return nil
	}
	return b.set(id, at)
}

// Sooner implements followup.Schedule.
func (s *Schedule) Sooner(_ context.Context, id string, at time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := open(tx)
		if err := b.sooner(id, ms(at)); err != nil {
			return err
		}
		if b.lease.Get([]byte(id)) != nil {
			return b.asked.Put([]byte(id), []byte{1})
		}
		return nil
	})
}

// Claim implements followup.Schedule.
func (s *Schedule) Claim(_ context.Context, now time.Time, lease time.Duration, max int) ([]followup.Claim, error) {
	until := now.Add(lease).Truncate(time.Millisecond)
	var out []followup.Claim
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		b := open(tx)
		limit := ms(now)
		var ids []string
		c := b.order.Cursor()
		for k, _ := c.First(); k != nil && len(ids) < max && bytes.Compare(k[:8], limit) <= 0; k, _ = c.Next() {
			ids = append(ids, string(k[8:]))
		}
		for _, id := range ids {
			cl := followup.Claim{SessionID: id, Until: until, Token: followup.NewToken()}
			if err := b.claim(cl); err != nil {
				return err
			}
			out = append(out, cl)
		}
		return nil
	})
	return out, err
}

func (b buckets) claim(c followup.Claim) error {
	if err := b.set(c.SessionID, ms(c.Until)); err != nil {
		return err
	}
	if err := b.asked.Delete([]byte(c.SessionID)); err != nil {
		return err
	}
	return b.lease.Put([]byte(c.SessionID), []byte(c.Token))
}

// Finish implements followup.Schedule.
func (s *Schedule) Finish(_ context.Context, c followup.Claim, next time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := open(tx)
		id := []byte(c.SessionID)
		if string(b.lease.Get(id)) != c.Token {
			return nil
		}
		if err := b.lease.Delete(id); err != nil {
			return err
		}
		if b.asked.Get(id) != nil {
			if err := b.asked.Delete(id); err != nil || next.IsZero() {
				return err
			}
			return b.sooner(c.SessionID, ms(next))
		}
		if next.IsZero() {
			return b.set(c.SessionID, nil)
		}
		return b.set(c.SessionID, ms(next))
	})
}
