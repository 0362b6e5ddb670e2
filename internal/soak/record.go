// Package soak runs Cohub under a schedule of faults and proves, from
// what every participant saw, that the promises held: every acknowledged
// message delivered once to everyone in its room, in one order, with seq
// contiguous within an epoch, nothing delivered that was never sent, and
// presence that neither flaps nor ghosts. It drives real nodes, a real
// Redis and a fault proxy between them; nothing here is imported by the
// server.
package soak

import (
	"sort"
	"sync"
	"time"
)

// Record is everything a run saw: what the checker judges.
type Record struct {
	Rooms  []*Room
	Faults []Fault
	// Grace and TTL are the nodes' leave grace and presence TTL, for the
	// presence checks.
	Grace, TTL time.Duration
	Start, End time.Time
	// Reminded are the sessions the run reminds (none: --reminders 0),
	// ReminderEvery their interval.
	Reminded      []*Reminded
	ReminderEvery time.Duration
}

// Room is one session and the two people in it.
type Room struct {
	ID              string
	Agent, Customer *Participant
}

// Participants lists the room's people.
func (r *Room) Participants() []*Participant { return []*Participant{r.Agent, r.Customer} }

// Participant is one side of a room as its client saw it. The client
// writes it from its goroutines; the checker reads it after the run.
type Participant struct {
	mu         sync.Mutex
	Room, Role string
	Sends      map[string]*Send
	Deliveries []Delivery
	Joins      []Join
	// Offline are the times this agent was told the customer went
	// offline (status frames); agents only.
	Offline []time.Time
	// Down are the intervals without a joined connection.
	Down []Interval
	// arrived numbers joins and deliveries in the order they arrived.
	arrived int64
}

// Send is one message a participant sent, and what came of it.
type Send struct {
	ID     string
	At     time.Time
	tried  time.Time // the last time it was sent
	Acked  bool
	AckSeq int64
	AckAt  time.Time
}

// Delivery is one event as it reached a participant, in arrival order.
type Delivery struct {
	Epoch string
	Seq   int64
	// Key names the event: a message by its id, others by their type.
	Key string
	At  time.Time
	// N is its place among this participant's joins and deliveries.
	N int64
}

// Join is one join reply.
type Join struct {
	At        time.Time
	Since     int64 // -1: joined without since
	Epoch     string
	Seq       int64
	Recovered *bool
	N         int64 // its place among joins and deliveries
}

// Interval is a span of time; an open one has a zero To.
type Interval struct {
	From, To time.Time
}

// Fault is one nemesis event.
type Fault struct {
	Kind   string // cut, delay, blackhole, half-open, kill, term, redis-restart, redis-kill, away
	Target string // "node 2", "redis", "customer of s_…"
	Room   string // away: the room whose customer left
	From   time.Time
	To     time.Time
}

func newParticipant(room, role string) *Participant {
	return &Participant{Room: room, Role: role, Sends: map[string]*Send{}}
}

func (p *Participant) sent(id string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Sends[id] == nil {
		p.Sends[id] = &Send{ID: id, At: at, tried: at}
	}
}

func (p *Participant) acked(id string, seq int64, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.Sends[id]; s != nil && !s.Acked {
		s.Acked, s.AckSeq, s.AckAt = true, seq, at
	}
}

// unackedBefore picks at most n unacknowledged sends last tried before t,
// oldest first, and marks them tried now.
func (p *Participant) unackedBefore(t time.Time, n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var due []*Send
	for _, s := range p.Sends {
		if !s.Acked && s.tried.Before(t) {
			due = append(due, s)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].At.Before(due[j].At) })
	var out []string
	now := time.Now()
	for _, s := range due[:min(n, len(due))] {
		s.tried = now
		out = append(out, s.ID)
	}
	return out
}

// pending counts unacknowledged sends.
func (p *Participant) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.Sends {
		if !s.Acked {
			n++
		}
	}
	return n
}

// deliveredIDs is the set of keys this participant received.
func (p *Participant) deliveredIDs() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]bool, len(p.Deliveries))
	for _, d := range p.Deliveries {
		out[d.Key] = true
	}
	return out
}

func (p *Participant) delivered(d Delivery) {
	p.mu.Lock()
	p.arrived++
	d.N = p.arrived
	p.Deliveries = append(p.Deliveries, d)
	p.mu.Unlock()
}

func (p *Participant) joined(j Join) {
	p.mu.Lock()
	p.arrived++
	j.N = p.arrived
	p.Joins = append(p.Joins, j)
	if n := len(p.Down); n > 0 && p.Down[n-1].To.IsZero() {
		p.Down[n-1].To = j.At
	}
	p.mu.Unlock()
}

func (p *Participant) down(at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.Down); n > 0 && p.Down[n-1].To.IsZero() {
		return
	}
	p.Down = append(p.Down, Interval{From: at})
}

func (p *Participant) offline(at time.Time) {
	p.mu.Lock()
	p.Offline = append(p.Offline, at)
	p.mu.Unlock()
}
