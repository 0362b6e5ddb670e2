// Package memqueue keeps webhook endpoints and deliveries in memory: the
// embedded backend's, shared by the nodes of one process, so a node's
// restart loses nothing.
package memqueue

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

// Store is the memory engine.
type Store struct {
	mu        sync.Mutex
	endpoints map[string]webhooks.Endpoint
	order     []string             // endpoint ids, oldest first
	items     map[string]*item     // by delivery id
	queues    map[string][]*item   // pending, by endpoint, in order
	due       map[string]time.Time // endpoint → when its head is due
	logs      map[string][]*item   // by endpoint, oldest first
}

type item struct {
	d     webhooks.Delivery
	claim string
	lease time.Time // when claim's lease ends
}

// dueAt is when the item may be claimed: at its next attempt, and not
// before its claim's lease ends (a retry put ahead of it while it is in
// flight must not hand it out again when the retry finishes).
func (it *item) dueAt() time.Time {
	if it.claim != "" && it.lease.After(*it.d.NextAttemptAt) {
		return it.lease
	}
	return *it.d.NextAttemptAt
}

// New is an empty store.
func New() *Store {
	return &Store{endpoints: map[string]webhooks.Endpoint{}, items: map[string]*item{},
		queues: map[string][]*item{}, due: map[string]time.Time{}, logs: map[string][]*item{}}
}

var _ webhooks.Store = (*Store)(nil)

// SaveEndpoint implements webhooks.Endpoints.
func (s *Store) SaveEndpoint(_ context.Context, e *webhooks.Endpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.endpoints[e.ID]; !ok {
		s.order = append(s.order, e.ID)
	}
	c := *e
	c.Events = slices.Clone(e.Events)
	s.endpoints[e.ID] = c
	return nil
}

// Endpoint implements webhooks.Endpoints.
func (s *Store) Endpoint(_ context.Context, id string) (*webhooks.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[id]
	if !ok {
		return nil, rooms.ErrNotFound
	}
	e.Events = slices.Clone(e.Events)
	return &e, nil
}

// Endpoints implements webhooks.Endpoints.
func (s *Store) Endpoints(context.Context) ([]webhooks.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]webhooks.Endpoint, 0, len(s.order))
	for _, id := range s.order {
		e := s.endpoints[id]
		e.Events = slices.Clone(e.Events)
		out = append(out, e)
	}
	return out, nil
}

// DeleteEndpoint implements webhooks.Endpoints.
func (s *Store) DeleteEndpoint(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.endpoints[id]; !ok {
		return rooms.ErrNotFound
	}
	delete(s.endpoints, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
	for _, it := range s.logs[id] {
		delete(s.items, it.d.ID)
	}
	delete(s.logs, id)
	delete(s.queues, id)
	delete(s.due, id)
	return nil
}

func before(a, b *item) int {
	return cmp.Or(cmp.Compare(a.d.Order(), b.d.Order()), cmp.Compare(a.d.ID, b.d.ID))
}

// Enqueue implements webhooks.Queue.
func (s *Store) Enqueue(_ context.Context, ds []webhooks.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		it := &item{d: d}
		s.items[d.ID] = it
		s.logs[d.EndpointID] = append(s.logs[d.EndpointID], it)
		s.queue(it)
		s.trim(d.EndpointID)
	}
	return nil
}

// queue puts it in its endpoint's queue; when it is the new head, the
// endpoint is due when it is.
func (s *Store) queue(it *item) {
	ep := it.d.EndpointID
	q := s.queues[ep]
	i, _ := slices.BinarySearchFunc(q, it, before)
	q = slices.Insert(q, i, it)
	s.queues[ep] = q
	if q[0] == it {
		s.due[ep] = it.dueAt()
	}
}

// trim drops the oldest finished deliveries past the log's length,
// among its 16 oldest (as the Redis engine does: while an endpoint is
// down its log holds every pending delivery, not to be scanned).
func (s *Store) trim(ep string) {
	log := s.logs[ep]
	over := min(len(log)-webhooks.LogLength, 16)
	if over <= 0 {
		return
	}
	if !slices.ContainsFunc(log[:over], func(it *item) bool { return it.d.Status != webhooks.StatusPending }) {
		return
	}
	kept := slices.DeleteFunc(slices.Clone(log[:over]), func(it *item) bool {
		if it.d.Status == webhooks.StatusPending {
			return false
		}
		delete(s.items, it.d.ID)
		return true
	})
	s.logs[ep] = append(kept, log[over:]...)
}

// Claim implements webhooks.Queue.
func (s *Store) Claim(_ context.Context, now time.Time, lease time.Duration, max int) ([]webhooks.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var eps []string
	for ep, at := range s.due {
		if !at.After(now) {
			eps = append(eps, ep)
		}
	}
	slices.SortFunc(eps, func(a, b string) int { return s.due[a].Compare(s.due[b]) })
	token := rand.Text()
	var out []webhooks.Claim
	for _, ep := range eps[:min(max, len(eps))] {
		head := s.queues[ep][0]
		head.claim, head.lease = token, now.Add(lease)
		s.due[ep] = head.lease
		out = append(out, webhooks.Claim{Delivery: head.d, Token: token})
	}
	return out, nil
}

// Finish implements webhooks.Queue.
func (s *Store) Finish(_ context.Context, token string, d webhooks.Delivery) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[d.ID]
	if !ok || it.claim != token || token == "" {
		return false, nil
	}
	it.d, it.claim, it.lease = d, "", time.Time{}
	ep := d.EndpointID
	if d.Status != webhooks.StatusPending {
		s.queues[ep] = slices.DeleteFunc(s.queues[ep], func(x *item) bool { return x == it })
	}
	s.reschedule(ep)
	return true, nil
}

// reschedule makes the endpoint due when its head is.
func (s *Store) reschedule(ep string) {
	q := s.queues[ep]
	if len(q) == 0 {
		delete(s.queues, ep)
		delete(s.due, ep)
		return
	}
	s.due[ep] = q[0].dueAt()
}

// Requeue implements webhooks.Queue.
func (s *Store) Requeue(_ context.Context, d webhooks.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[d.ID]
	if !ok {
		return rooms.ErrNotFound
	}
	// Out of its queue first, where it still is (pending).
	s.queues[d.EndpointID] = slices.DeleteFunc(s.queues[d.EndpointID], func(x *item) bool { return x == it })
	it.d, it.claim, it.lease = d, "", time.Time{}
	s.queue(it)
	return nil
}

// Delivery implements webhooks.Queue.
func (s *Store) Delivery(_ context.Context, endpointID, id string) (*webhooks.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok || it.d.EndpointID != endpointID {
		return nil, rooms.ErrNotFound
	}
	d := it.d
	return &d, nil
}

// Deliveries implements webhooks.Queue.
func (s *Store) Deliveries(_ context.Context, endpointID string, limit int) ([]webhooks.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.logs[endpointID]
	out := make([]webhooks.Delivery, 0, min(limit, len(log)))
	for i := len(log) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, log[i].d)
	}
	return out, nil
}
