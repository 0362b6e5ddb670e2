package boltstore

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/rooms"
)

// A room log is a bucket under logs/<session id>: its epoch and last
// seq, and buckets of its events (seq → event), its commit names (name
// → seq, and seq → name to drop the oldest) and its rates (key → tat).
var (
	kEpoch   = []byte("epoch")
	kSeq     = []byte("seq")
	bEvents  = []byte("e")
	bNames   = []byte("once")
	bNameSeq = []byte("onceseq")
	bRates   = []byte("rate")
)

// roomLog is a room log inside a transaction; b is nil while the log
// was never created.
type roomLog struct {
	b *bolt.Bucket
}

func logIn(tx *bolt.Tx, id string) roomLog {
	return roomLog{b: tx.Bucket(bLogs).Bucket([]byte(id))}
}

func (l roomLog) last() int64 {
	if l.b == nil {
		return 0
	}
	return i64(l.b.Get(kSeq))
}

func (l roomLog) epoch() string {
	if l.b == nil {
		return ""
	}
	return string(l.b.Get(kEpoch))
}

// named returns the seq a commit name got, if it is kept.
func (l roomLog) named(name string) (int64, bool) {
	if name == "" || l.b == nil {
		return 0, false
	}
	names := l.b.Bucket(bNames)
	if names == nil {
		return 0, false
	}
	v := names.Get([]byte(name))
	return i64(v), v != nil
}

// tat is when a rate key's next commit is allowed without burst.
func (l roomLog) tat(key string) time.Time {
	if l.b == nil {
		return time.Time{}
	}
	rates := l.b.Bucket(bRates)
	if rates == nil {
		return time.Time{}
	}
	v := rates.Get([]byte(key))
	if v == nil {
		return time.Time{}
	}
	return time.Unix(0, i64(v))
}

// gate checks a commit's name, bound and rate against the log; it
// returns the rate's new tat.
func (l roomLog) gate(n int, opts rooms.CommitOptions) (time.Time, error) {
	if seq, ok := l.named(opts.Once); ok {
		return time.Time{}, &rooms.DuplicateError{LastSeq: seq}
	}
	if opts.MaxEvents > 0 && l.last()+int64(n) > opts.MaxEvents {
		return time.Time{}, rooms.ErrRoomFull
	}
	if r := opts.Rate; r != nil {
		tat, wait := rooms.GCRA(l.tat(r.Key), time.Now(), r)
		if wait > 0 {
			return time.Time{}, &rooms.RateLimitError{RetryAfter: wait}
		}
		return tat, nil
	}
	return time.Time{}, nil
}

// appendEvents numbers and writes events after the log's end, creating
// the log when missing, and keeps the commit's name and rate.
func appendEvents(tx *bolt.Tx, id string, events []rooms.Event, opts rooms.CommitOptions, tat time.Time) ([]rooms.Event, error) {
	lb, err := tx.Bucket(bLogs).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return nil, err
	}
	if lb.Get(kEpoch) == nil {
		if err := lb.Put(kEpoch, []byte(rooms.NewEpoch())); err != nil {
			return nil, err
		}
	}
	eb, err := lb.CreateBucketIfNotExists(bEvents)
	if err != nil {
		return nil, err
	}
	// Appends come in seq order: a full page split is cheaper.
	eb.FillPercent = 0.95
	last := i64(lb.Get(kSeq))
	out := make([]rooms.Event, len(events))
	for i, e := range events {
		e.Seq = last + int64(i) + 1
		b, err := rooms.MarshalEvent(e)
		if err != nil {
			return nil, err
		}
		if err := eb.Put(u64(uint64(e.Seq)), b); err != nil {
			return nil, err
		}
		out[i] = e
	}
	last += int64(len(events))
	if err := lb.Put(kSeq, u64(uint64(last))); err != nil {
		return nil, err
	}
	if r := opts.Rate; r != nil {
		if err := putIn(lb, bRates, []byte(r.Key), u64(uint64(tat.UnixNano()))); err != nil {
			return nil, err
		}
	}
	return out, remember(lb, opts.Once, last)
}

// putIn writes k=v in lb's sub-bucket name, creating it when missing.
func putIn(lb *bolt.Bucket, name, k, v []byte) error {
	b, err := lb.CreateBucketIfNotExists(name)
	if err != nil {
		return err
	}
	return b.Put(k, v)
}

// onceTrim paces the trimming of a log's names, as the Redis store's:
// names past OnceKeep are dropped once there are onceTrim of them.
const onceTrim = 32

// kNames counts the names a log keeps.
var kNames = []byte("names")

// remember keeps a commit's name, and at least the last OnceKeep names.
func remember(lb *bolt.Bucket, name string, seq int64) error {
	if name == "" {
		return nil
	}
	if err := putIn(lb, bNames, []byte(name), u64(uint64(seq))); err != nil {
		return err
	}
	if err := putIn(lb, bNameSeq, u64(uint64(seq)), []byte(name)); err != nil {
		return err
	}
	kept := i64(lb.Get(kNames)) + 1
	if kept >= rooms.OnceKeep+onceTrim {
		bySeq, names := lb.Bucket(bNameSeq), lb.Bucket(bNames)
		c := bySeq.Cursor()
		for k, v := c.First(); k != nil && kept > rooms.OnceKeep; k, v = c.First() {
			if err := names.Delete(v); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			kept--
		}
	}
	return lb.Put(kNames, u64(uint64(kept)))
}

// Commit writes the session and appends its events in one transaction.
func (s *Store) Commit(_ context.Context, sess *rooms.Session, events []rooms.Event, opts rooms.CommitOptions) ([]rooms.Event, error) {
	var out []rooms.Event
	want := sess.Internal.Version
	err := s.update(func(tx *bolt.Tx) error {
		// A body may run again: start from the caller's session each time.
		sess.Internal.Version = want
		var err error
		out, err = commitIn(tx, sess, events, opts)
		if err != nil {
			sess.Internal.Version = want
		}
		return err
	})
	if err != nil {
		sess.Internal.Version = want
		return nil, err
	}
	if s.publish != nil && len(out) > 0 {
		s.publish(sess.ID, out)
	}
	return out, nil
}

func commitIn(tx *bolt.Tx, sess *rooms.Session, events []rooms.Event, opts rooms.CommitOptions) ([]rooms.Event, error) {
	log := logIn(tx, sess.ID)
	if seq, ok := log.named(opts.Once); ok {
		return nil, &rooms.DuplicateError{LastSeq: seq}
	}
	version := int64(0)
	if cur := tx.Bucket(bSessions).Get([]byte(sess.ID)); cur != nil {
		prev, err := rooms.DecodeSession(cur)
		if err != nil {
			return nil, err
		}
		version = prev.Internal.Version
		if version == sess.Internal.Version {
			rooms.MergeActivity(sess, prev, opts.ClearUpdated)
		}
	}
	if version != sess.Internal.Version {
		return nil, rooms.ErrConflict
	}
	tat, err := log.gate(len(events), opts)
	if err != nil {
		return nil, err
	}
	sess.Internal.Version++
	b, err := rooms.EncodeSession(sess)
	if err != nil {
		return nil, err
	}
	out, err := appendEvents(tx, sess.ID, events, opts, tat)
	if err != nil {
		return nil, err
	}
	if err := tx.Bucket(bSessions).Put([]byte(sess.ID), b); err != nil {
		return nil, err
	}
	return out, index(tx, sess)
}

// Append logs one chat message; the record changes only in its activity
// (not its version), as the other stores' small fields.
func (s *Store) Append(_ context.Context, id string, a rooms.MessageAppend) (rooms.Appended, error) {
	var out rooms.Appended
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		out, err = appendIn(tx, id, a)
		return err
	})
	if err == nil && s.publish != nil {
		s.publish(id, []rooms.Event{out.Event})
	}
	return out, err
}

func appendIn(tx *bolt.Tx, id string, a rooms.MessageAppend) (rooms.Appended, error) {
	b := tx.Bucket(bSessions).Get([]byte(id))
	if b == nil {
		return rooms.Appended{}, rooms.ErrNotFound
	}
	sess, err := rooms.DecodeSession(b)
	if err != nil {
		return rooms.Appended{}, err
	}
	out := rooms.Appended{AgentID: sess.AgentID, TeamID: sess.TeamID}
	log := logIn(tx, id)
	if seq, ok := log.named(a.Opts.Once); ok {
		out.Event = a.Event
		out.Event.Seq = seq
		return out, &rooms.DuplicateError{LastSeq: seq}
	}
	if err := rooms.WriteGate(sess, a.Event.From.Role, a.Now); err != nil {
		return out, err
	}
	tat, err := log.gate(1, a.Opts)
	if err != nil {
		return out, err
	}
	var e rooms.Event
	e, out.MarkedUpdated = rooms.AppendTouch(sess, a)
	if b, err = rooms.EncodeSession(sess); err != nil {
		return out, err
	}
	evs, err := appendEvents(tx, id, []rooms.Event{e}, a.Opts, tat)
	if err != nil {
		return out, err
	}
	if err := tx.Bucket(bSessions).Put([]byte(id), b); err != nil {
		return out, err
	}
	out.Event = evs[0]
	return out, index(tx, sess)
}

// Session returns one session.
func (s *Store) Session(_ context.Context, id string) (*rooms.Session, error) {
	var out *rooms.Session
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions).Get([]byte(id))
		if b == nil {
			return rooms.ErrNotFound
		}
		var err error
		out, err = rooms.DecodeSession(b)
		return err
	})
	return out, err
}

// SessionsByID returns the sessions that exist among ids, in that order.
func (s *Store) SessionsByID(_ context.Context, ids []string) ([]*rooms.Session, error) {
	out := make([]*rooms.Session, 0, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		sessions := tx.Bucket(bSessions)
		for _, id := range ids {
			b := sessions.Get([]byte(id))
			if b == nil {
				continue
			}
			sess, err := rooms.DecodeSession(b)
			if err != nil {
				return err
			}
			out = append(out, sess)
		}
		return nil
	})
	return out, err
}

// Events returns up to limit events with seq > since, in seq order.
func (s *Store) Events(_ context.Context, id string, since int64, limit int) ([]rooms.Event, error) {
	var out []rooms.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		log := logIn(tx, id)
		if log.b == nil || log.b.Bucket(bEvents) == nil {
			return nil
		}
		c := log.b.Bucket(bEvents).Cursor()
		for k, v := c.Seek(u64(uint64(max(since, 0) + 1))); k != nil; k, v = c.Next() {
			if limit > 0 && len(out) == limit {
				break
			}
			var e rooms.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// LastSeq returns the log's last seq and epoch.
func (s *Store) LastSeq(_ context.Context, id string) (int64, string, error) {
	var pos rooms.LogPosition
	err := s.db.View(func(tx *bolt.Tx) error {
		log := logIn(tx, id)
		pos = rooms.LogPosition{Seq: log.last(), Epoch: log.epoch()}
		return nil
	})
	return pos.Seq, pos.Epoch, err
}

// LastSeqs reads many rooms' positions in one transaction.
func (s *Store) LastSeqs(_ context.Context, ids []string) (map[string]rooms.LogPosition, error) {
	out := make(map[string]rooms.LogPosition, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, id := range ids {
			log := logIn(tx, id)
			out[id] = rooms.LogPosition{Seq: log.last(), Epoch: log.epoch()}
		}
		return nil
	})
	return out, err
}
