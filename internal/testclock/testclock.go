// Package testclock is a settable clock for tests: expiries, access
// windows and retry schedules are tested by moving it, never by sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock reads the time it was last set or moved to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New is a clock reading t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
