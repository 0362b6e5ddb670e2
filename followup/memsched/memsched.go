// Package memsched keeps the follow-up schedule in memory, for the
// memory backend: it lasts as long as the process.
package memsched

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/cohub/cohub/followup"
)

// Schedule is the memory engine. Claim scans every entry: the memory
// backend serves one node and tests, not a large book of sessions.
type Schedule struct {
	mu    sync.Mutex
	due   map[string]time.Time
	lease map[string]string
	asked map[string]bool
}

var _ followup.Schedule = (*Schedule)(nil)

// New is an empty schedule.
func New() *Schedule {
	return &Schedule{due: map[string]time.Time{}, lease: map[string]string{}, asked: map[string]bool{}}
}

// Sooner implements followup.Schedule.
func (s *Schedule) Sooner(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.due[id]; !ok || at.Before(cur) {
		s.due[id] = at
	}
	if _, held := s.lease[id]; held {
		s.asked[id] = true
	}
	return nil
}

// Claim implements followup.Schedule.
func (s *Schedule) Claim(_ context.Context, now time.Time, lease time.Duration, max int) ([]followup.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, at := range s.due {
		if !at.After(now) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return s.due[a].Compare(s.due[b]) })
	if len(ids) > max {
		ids = ids[:max]
	}
	out := make([]followup.Claim, len(ids))
	for i, id := range ids {
		c := followup.Claim{SessionID: id, Until: now.Add(lease), Token: followup.NewToken()}
		s.due[id], s.lease[id] = c.Until, c.Token
		delete(s.asked, id)
		out[i] = c
	}
	return out, nil
}

// Finish implements followup.Schedule.
func (s *Schedule) Finish(_ context.Context, c followup.Claim, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease[c.SessionID] != c.Token {
		return nil
	}
	delete(s.lease, c.SessionID)
	if s.asked[c.SessionID] {
		delete(s.asked, c.SessionID)
		if cur := s.due[c.SessionID]; !next.IsZero() && next.Before(cur) {
			s.due[c.SessionID] = next
		}
		return nil
	}
	if next.IsZero() {
		delete(s.due, c.SessionID)
	} else {
		s.due[c.SessionID] = next
	}
	return nil
}
