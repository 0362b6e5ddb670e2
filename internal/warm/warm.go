// Package warm runs short pieces of work on goroutines that outlive them.
// A goroutine started per piece begins with a small stack and, when the
// piece runs deep (a Redis round trip, a JSON encoder), grows it by
// copying, every time; a goroutine kept warm has grown it once. An idle
// node keeps none: each goroutine ends after a quiet spell.
package warm

import "time"

// Pool hands work to an idle goroutine, or starts one when none is idle.
// It never queues: every piece starts at once, as with a go statement.
type Pool struct {
	idle time.Duration
	work chan func()
}

// New returns a pool whose goroutines end after idle without work.
func New(idle time.Duration) *Pool {
	return &Pool{idle: idle, work: make(chan func())}
}

// Go runs fn on a warm goroutine. fn must not panic (as with go fn()).
func (p *Pool) Go(fn func()) {
	select {
	case p.work <- fn:
	default:
		go p.worker(fn)
	}
}

func (p *Pool) worker(fn func()) {
	t := time.NewTimer(p.idle)
	defer t.Stop()
	for {
		fn()
		fn = nil // what it holds must not outlive it
		t.Reset(p.idle)
		select {
		case fn = <-p.work:
		case <-t.C:
			return
		}
	}
}
