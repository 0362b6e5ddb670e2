package boltstore

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/notify"
)

// Outbox is the invitation outbox in the same file as the store: what
// it "sends" survives a restart, as the Redis outbox does.
type Outbox struct{ s *Store }

var _ notify.Outbox = Outbox{}

// Outbox returns the store's outbox.
func (s *Store) Outbox() Outbox { return Outbox{s: s} }

// Send keeps the message, and only the newest OutboxSize.
func (o Outbox) Send(_ context.Context, m notify.Message) error {
	if m.At.IsZero() {
		m.At = time.Now().UTC()
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return o.s.update(func(tx *bolt.Tx) error {
		box := tx.Bucket(bOutbox)
		seq, err := box.NextSequence()
		if err != nil {
			return err
		}
		if err := box.Put(u64(seq), b); err != nil {
			return err
		}
		c := box.Cursor()
		for k, _ := c.First(); k != nil && uint64(i64(k))+o.s.outboxMax <= seq; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// List returns up to limit messages, newest first.
func (o Outbox) List(_ context.Context, limit int) ([]notify.Message, error) {
	out := []notify.Message{}
	err := o.s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bOutbox).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var m notify.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}
