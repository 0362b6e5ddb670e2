// Package workers runs short tasks on goroutines kept between tasks.
//
// A goroutine made for each task starts on a small stack, and a task that
// goes deep (a Redis round trip through its client) makes the runtime
// grow it, copying the stack at each step: a few percent of a busy
// node's CPU. A worker kept between tasks has grown its stack already.
// A worker idle for the pool's idle time ends at the next sweep (within
// twice that), so a burst leaves nothing behind.
package workers

import (
	"sync"
	"time"
)

// Pool hands tasks to idle workers, or to new ones when none is idle: Go
// never waits, and the pool never bounds how many run (its callers do).
type Pool struct {
	idleFor time.Duration
	mu      sync.Mutex
	idle    []*worker // the longest idle first
	n       int       // workers alive, busy or idle
	idled   func()    // tests: called each time a worker goes idle
}

type worker struct {
	task  chan func()
	since time.Time // when it last went idle
}

// New makes a pool whose workers end once idle for idleFor: a sweep
// every idleFor ends them, so one may wait up to twice that.
func New(idleFor time.Duration) *Pool { return &Pool{idleFor: idleFor} }

// Go runs fn on a worker.
func (p *Pool) Go(fn func()) {
	p.mu.Lock()
	if last := len(p.idle) - 1; last >= 0 {
		// The most recently idle: its stack is the likeliest to be warm.
		w := p.idle[last]
		p.idle[last] = nil
		p.idle = p.idle[:last]
		p.mu.Unlock()
		w.task <- fn // buffered: an idle worker's is empty
		return
	}
	p.n++
	first := p.n == 1
	p.mu.Unlock()
	if first {
		go p.sweep()
	}
	go p.work(&worker{task: make(chan func(), 1)}, fn)
}

func (p *Pool) work(w *worker, fn func()) {
	for fn != nil {
		fn()
		fn = nil // an idle worker holds nothing of its last task
		p.mu.Lock()
		w.since = time.Now()
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		if p.idled != nil {
			p.idled()
		}
		fn = <-w.task
	}
}

// sweep ends idle workers every idleFor while the pool has any.
func (p *Pool) sweep() {
	t := time.NewTicker(p.idleFor)
	defer t.Stop()
	for now := range t.C {
		if p.endIdle(now) == 0 {
			return
		}
	}
}

// endIdle ends the workers idle since before now-idleFor and reports how
// many workers are left; the sweep stops at none (the next Go starts it).
func (p *Pool) endIdle(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	stale := 0
	for stale < len(p.idle) && now.Sub(p.idle[stale].since) >= p.idleFor {
		p.idle[stale].task <- nil
		stale++
	}
	p.idle = append(p.idle[:0], p.idle[stale:]...)
	p.n -= stale
	return p.n
}
