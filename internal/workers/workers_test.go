package workers

import (
	"sync"
	"testing"
	"time"
)

// runAll runs n tasks at once and waits for them all.
func runAll(p *Pool, n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	start := make(chan struct{})
	for range n {
		p.Go(func() {
			<-start // all n are running at once: none can reuse another's worker
			wg.Done()
		})
	}
	close(start)
	wg.Wait()
}

// runOne runs one task and waits for it.
func runOne(p *Pool) {
	done := make(chan struct{})
	p.Go(func() { close(done) })
	<-done
}

// watched is a pool whose workers say on idled each time they go idle.
func watched(idleFor time.Duration) (*Pool, chan struct{}) {
	p := New(idleFor)
	idled := make(chan struct{}, 4096)
	p.idled = func() { idled <- struct{}{} }
	return p, idled
}

// settle waits for n workers to go idle and reports the pool's workers.
func settle(p *Pool, idled chan struct{}, n int) int {
	for range n {
		<-idled
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func TestWorkersAreReused(t *testing.T) {
	p, idled := watched(time.Hour)
	runAll(p, 8)
	if alive := settle(p, idled, 8); alive != 8 {
		t.Fatalf("%d workers after 8 tasks at once, want 8", alive)
	}
	for range 100 {
		runOne(p)
		if alive := settle(p, idled, 1); alive != 8 {
			t.Fatalf("%d workers after a task one at a time, want the same 8", alive)
		}
	}
}

func TestIdleWorkersEnd(t *testing.T) {
	p, idled := watched(time.Hour)
	runAll(p, 5)
	settle(p, idled, 5)
	if left := p.endIdle(time.Now()); left != 5 {
		t.Fatalf("%d workers left before their idle time ran out, want 5", left)
	}
	if left := p.endIdle(time.Now().Add(time.Hour)); left != 0 {
		t.Fatalf("%d workers left after their idle time, want 0", left)
	}
	runOne(p)
	if alive := settle(p, idled, 1); alive != 1 {
		t.Fatalf("%d workers after one task on an emptied pool, want 1", alive)
	}
}

func TestBusyWorkersOutliveTheSweep(t *testing.T) {
	p := New(time.Hour)
	release := make(chan struct{})
	ran := make(chan struct{})
	p.Go(func() { <-release; close(ran) })
	if left := p.endIdle(time.Now().Add(2 * time.Hour)); left != 1 {
		t.Fatalf("%d workers left with one busy, want 1", left)
	}
	close(release)
	<-ran
}

func TestManyTasksAtOnce(t *testing.T) {
	p := New(time.Millisecond) // sweeps run during the test
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for i := range 2000 {
		wg.Add(1)
		p.Go(func() {
			mu.Lock()
			seen[i] = true
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	if len(seen) != 2000 {
		t.Fatalf("%d of 2000 tasks ran", len(seen))
	}
}
