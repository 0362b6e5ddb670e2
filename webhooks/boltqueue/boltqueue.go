// Package boltqueue keeps webhook endpoints and deliveries in the
// embedded store's bbolt file: a restart of the single-node server keeps
// them, and a backup (a consistent copy of that file) holds them. Each
// change is one bbolt transaction, fsync'd before the call returns.
//
// Top-level buckets, beside the store's own:
//
//	webhooks.endpoints   endpoint id → endpoint JSON
//	webhooks.epcreated   created (ms) + endpoint id → endpoint id
//	webhooks.deliveries  delivery id → record JSON: the delivery, its claim's token and lease end
//	webhooks.pending     endpoint id → bucket: event time (ms) + delivery id → delivery id
//	webhooks.log         endpoint id → bucket: sequence → delivery id, oldest first
package boltqueue

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

var (
	bEndpoints  = []byte("webhooks.endpoints")
	bCreated    = []byte("webhooks.epcreated")
	bDeliveries = []byte("webhooks.deliveries")
	bPending    = []byte("webhooks.pending")
	bLog        = []byte("webhooks.log")
)

// Store is the bbolt engine.
type Store struct {
	db *bolt.DB
}

var _ webhooks.Store = (*Store)(nil)

// New keeps webhooks in db, creating its buckets when missing.
func New(db *bolt.DB) (*Store, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bEndpoints, bCreated, bDeliveries, bPending, bLog} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// record is a delivery as kept: the claim lives beside it so that a
// claim survives a restart and its lease still holds.
type record struct {
	D     webhooks.Delivery `json:"d"`
	Claim string            `json:"claim,omitempty"`
	Lease time.Time         `json:"lease,omitzero"`
	// Seq is its key in its endpoint's log.
	Seq uint64 `json:"seq"`
}

// dueAt is when the record may be claimed: at its next attempt, and not
// before its claim's lease ends.
func (r *record) dueAt() time.Time {
	var at time.Time
	if r.D.NextAttemptAt != nil {
		at = *r.D.NextAttemptAt
	}
	if r.Lease.After(at) {
		return r.Lease
	}
	return at
}

// sortKey orders by n then id; n's sign bit is flipped so that negative
// times (before 1970) still sort first as unsigned bytes.
func sortKey(n int64, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(n)^(1<<63))
	return append(k, id...)
}

func createdKey(e *webhooks.Endpoint) []byte { return sortKey(e.CreatedAt.UnixMilli(), e.ID) }

func pendingKey(d *webhooks.Delivery) []byte { return sortKey(d.Order(), d.ID) }

func endpointIn(tx *bolt.Tx, id string) (*webhooks.Endpoint, error) {
	b := tx.Bucket(bEndpoints).Get([]byte(id))
	if b == nil {
		return nil, rooms.ErrNotFound
	}
	var e webhooks.Endpoint
	return &e, json.Unmarshal(b, &e)
}

// SaveEndpoint implements webhooks.Endpoints.
func (s *Store) SaveEndpoint(_ context.Context, e *webhooks.Endpoint) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		created := tx.Bucket(bCreated)
		if old, err := endpointIn(tx, e.ID); err == nil {
			if err := created.Delete(createdKey(old)); err != nil {
				return err
			}
		}
		if err := created.Put(createdKey(e), []byte(e.ID)); err != nil {
			return err
		}
		return tx.Bucket(bEndpoints).Put([]byte(e.ID), b)
	})
}

// Endpoint implements webhooks.Endpoints.
func (s *Store) Endpoint(_ context.Context, id string) (*webhooks.Endpoint, error) {
	var e *webhooks.Endpoint
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		e, err = endpointIn(tx, id)
		return err
	})
	return e, err
}

// Endpoints implements webhooks.Endpoints.
func (s *Store) Endpoints(context.Context) ([]webhooks.Endpoint, error) {
	out := []webhooks.Endpoint{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCreated).ForEach(func(_, id []byte) error {
			e, err := endpointIn(tx, string(id))
			if err == nil {
				out = append(out, *e)
			}
			return err
		})
	})
	return out, err
}

// DeleteEndpoint implements webhooks.Endpoints.
func (s *Store) DeleteEndpoint(_ context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		e, err := endpointIn(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bCreated).Delete(createdKey(e)); err != nil {
			return err
		}
		if err := tx.Bucket(bEndpoints).Delete([]byte(id)); err != nil {
			return err
		}
		// Every delivery is in its endpoint's log: pending ones are never trimmed.
		if lg := tx.Bucket(bLog).Bucket([]byte(id)); lg != nil {
			deliveries := tx.Bucket(bDeliveries)
			if err := lg.ForEach(func(_, d []byte) error { return deliveries.Delete(d) }); err != nil {
				return err
			}
		}
		return errors.Join(deleteBucket(tx.Bucket(bLog), id), deleteBucket(tx.Bucket(bPending), id))
	})
}

func deleteBucket(parent *bolt.Bucket, name string) error {
	if err := parent.DeleteBucket([]byte(name)); !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

// recordIn is the delivery id's record; nil when there is none.
func recordIn(tx *bolt.Tx, id []byte) (*record, error) {
	b := tx.Bucket(bDeliveries).Get(id)
	if b == nil {
		return nil, nil
	}
	var r record
	return &r, json.Unmarshal(b, &r)
}

func put(tx *bolt.Tx, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bDeliveries).Put([]byte(r.D.ID), b)
}

// queue puts d in its endpoint's pending queue, whose first key is the
// only delivery of the endpoint ever due.
func queue(tx *bolt.Tx, d *webhooks.Delivery) error {
	q, err := tx.Bucket(bPending).CreateBucketIfNotExists([]byte(d.EndpointID))
	if err != nil {
		return err
	}
	return q.Put(pendingKey(d), []byte(d.ID))
}

// unqueue takes d out of its endpoint's queue; an emptied queue goes, so
// that Claim looks only at endpoints with work.
func unqueue(tx *bolt.Tx, d *webhooks.Delivery) error {
	q := tx.Bucket(bPending).Bucket([]byte(d.EndpointID))
	if q == nil {
		return nil
	}
	if err := q.Delete(pendingKey(d)); err != nil {
		return err
	}
	if k, _ := q.Cursor().First(); k == nil {
		return deleteBucket(tx.Bucket(bPending), d.EndpointID)
	}
	return nil
}

// Enqueue implements webhooks.Queue.
func (s *Store) Enqueue(_ context.Context, ds []webhooks.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, d := range ds {
			if err := add(tx, d); err != nil {
				return err
			}
		}
		// Trimming once per endpoint after the batch drops the same
		// deliveries as trimming after each one: the new ones are pending.
		for _, ep := range endpointsOf(ds) {
			if err := trim(tx, ep); err != nil {
				return err
			}
		}
		return nil
	})
}

func endpointsOf(ds []webhooks.Delivery) []string {
	eps := make([]string, 0, len(ds))
	for _, d := range ds {
		eps = append(eps, d.EndpointID)
	}
	slices.Sort(eps)
	return slices.Compact(eps)
}

// add logs d at the end of its endpoint's log and queues it.
func add(tx *bolt.Tx, d webhooks.Delivery) error {
	lg, err := tx.Bucket(bLog).CreateBucketIfNotExists([]byte(d.EndpointID))
	if err != nil {
		return err
	}
	seq, err := lg.NextSequence()
	if err != nil {
		return err
	}
	if err := lg.Put(binary.BigEndian.AppendUint64(nil, seq), []byte(d.ID)); err != nil {
		return err
	}
	if err := put(tx, &record{D: d, Seq: seq}); err != nil {
		return err
	}
	return queue(tx, &d)
}

// trim drops the endpoint's oldest finished deliveries past the log's
// length; pending ones stay, however many.
func trim(tx *bolt.Tx, ep string) error {
	lg := tx.Bucket(bLog).Bucket([]byte(ep))
	over := -webhooks.LogLength
	c := lg.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		over++
	}
	var drop [][]byte // log key, then delivery id
	for k, id := c.First(); k != nil && over > 0; k, id = c.Next() {
		r, err := recordIn(tx, id)
		if err != nil {
			return err
		}
		if r == nil || r.D.Status != webhooks.StatusPending {
			drop = append(drop, bytes.Clone(k), bytes.Clone(id))
			over--
		}
	}
	for i := 0; i < len(drop); i += 2 {
		if err := errors.Join(lg.Delete(drop[i]), tx.Bucket(bDeliveries).Delete(drop[i+1])); err != nil {
			return err
		}
	}
	return nil
}

// dueHeads are the heads of the endpoints' queues that are due at now,
// the longest due first (ties by endpoint, so claims are repeatable).
func dueHeads(tx *bolt.Tx, now time.Time) ([]*record, error) {
	pending := tx.Bucket(bPending)
	var out []*record
	err := pending.ForEach(func(ep, _ []byte) error {
		_, id := pending.Bucket(ep).Cursor().First()
		r, err := recordIn(tx, id)
		if err == nil && r != nil && !r.dueAt().After(now) {
			out = append(out, r)
		}
		return err
	})
	slices.SortFunc(out, func(a, b *record) int {
		return cmp.Or(a.dueAt().Compare(b.dueAt()), strings.Compare(a.D.EndpointID, b.D.EndpointID))
	})
	return out, err
}

// Claim implements webhooks.Queue. Every node polls it each second, so
// it looks in a read transaction first: an idle poll costs no fsync.
func (s *Store) Claim(_ context.Context, now time.Time, lease time.Duration, max int) ([]webhooks.Claim, error) {
	if max <= 0 {
		return nil, nil
	}
	var due bool
	err := s.db.View(func(tx *bolt.Tx) error {
		heads, err := dueHeads(tx, now)
		due = len(heads) > 0
		return err
	})
	if err != nil || !due {
		return nil, err
	}
	var out []webhooks.Claim
	err = s.db.Update(func(tx *bolt.Tx) error {
		heads, err := dueHeads(tx, now)
		if err != nil {
			return err
		}
		token := rand.Text()
		for _, r := range heads[:min(max, len(heads))] {
			r.Claim, r.Lease = token, now.Add(lease)
			if err := put(tx, r); err != nil {
				return err
			}
			out = append(out, webhooks.Claim{Delivery: r.D, Token: token})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// replace puts d in place of r's delivery, unclaimed, in its endpoint's
// queue when queued.
func replace(tx *bolt.Tx, r *record, d webhooks.Delivery, queued bool) error {
	if err := unqueue(tx, &r.D); err != nil {
		return err
	}
	r.D, r.Claim, r.Lease = d, "", time.Time{}
	if queued {
		if err := queue(tx, &r.D); err != nil {
			return err
		}
	}
	return put(tx, r)
}

// Finish implements webhooks.Queue.
func (s *Store) Finish(_ context.Context, token string, d webhooks.Delivery) (bool, error) {
	if token == "" {
		return false, nil
	}
	held := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		r, err := recordIn(tx, []byte(d.ID))
		held = err == nil && r != nil && r.Claim == token
		if !held {
			return err
		}
		return replace(tx, r, d, d.Status == webhooks.StatusPending)
	})
	return held && err == nil, err
}

// Requeue implements webhooks.Queue.
func (s *Store) Requeue(_ context.Context, d webhooks.Delivery) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		r, err := recordIn(tx, []byte(d.ID))
		if err != nil {
			return err
		}
		if r == nil {
			return rooms.ErrNotFound
		}
		return replace(tx, r, d, true)
	})
}

// Delivery implements webhooks.Queue.
func (s *Store) Delivery(_ context.Context, endpointID, id string) (*webhooks.Delivery, error) {
	var r *record
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		r, err = recordIn(tx, []byte(id))
		return err
	})
	if err != nil {
		return nil, err
	}
	if r == nil || r.D.EndpointID != endpointID {
		return nil, rooms.ErrNotFound
	}
	return &r.D, nil
}

// Deliveries implements webhooks.Queue.
func (s *Store) Deliveries(_ context.Context, endpointID string, limit int) ([]webhooks.Delivery, error) {
	out := []webhooks.Delivery{}
	err := s.db.View(func(tx *bolt.Tx) error {
		lg := tx.Bucket(bLog).Bucket([]byte(endpointID))
		if lg == nil {
			return nil
		}
		c := lg.Cursor()
		for k, id := c.Last(); k != nil && len(out) < limit; k, id = c.Prev() {
			r, err := recordIn(tx, id)
			if err != nil {
				return err
			}
			if r != nil {
				out = append(out, r.D)
			}
		}
		return nil
	})
	return out, err
}
