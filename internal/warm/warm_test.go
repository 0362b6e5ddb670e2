package warm

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestEveryPieceRuns(t *testing.T) {
	p := New(time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]bool{}
	for i := range 1000 {
		wg.Add(1)
		p.Go(func() {
			defer wg.Done()
			mu.Lock()
			seen[i] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1000 {
		t.Fatalf("%d of 1000 pieces ran", len(seen))
	}
}

// A piece that waits never holds up the next: none is queued behind it.
func TestNoPieceWaitsForAnother(t *testing.T) {
	p := New(time.Minute)
	release := make(chan struct{})
	p.Go(func() { <-release })
	ran := make(chan struct{})
	p.Go(func() { close(ran) })
	<-ran // would block forever if the second piece queued behind the first
	close(release)
}

// Pieces one after another reuse the same few goroutines, and they end
// once idle.
func TestReusedThenRetired(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(50 * time.Millisecond)
	ids := map[uintptr]bool{}
	for range 100 {
		got := make(chan uintptr)
		p.Go(func() { got <- goid() })
		ids[<-got] = true
	}
	// A piece may come before the last one's goroutine is parked again,
	// so a few may start; one per piece would be 100.
	if len(ids) > 10 {
		t.Fatalf("100 pieces one after another ran on %d goroutines", len(ids))
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after idle, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// goid is the running goroutine's id, read from its stack header.
func goid() uintptr {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	var id uintptr
	for _, c := range b[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uintptr(c-'0')
	}
	return id
}
