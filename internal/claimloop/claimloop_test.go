package claimloop

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunBoundsWorkAndFreesSlots: never more than Slots pieces at once,
// every claimed piece worked, Freed once per piece, and a failed claim
// reported without stopping the loop.
func TestRunBoundsWorkAndFreesSlots(t *testing.T) {
	const total = 40
	var mu sync.Mutex
	next, failedOnce := 0, false
	var running, most, freed atomic.Int32
	done := make(chan int, total)
	gate := make(chan struct{})
	kick := make(chan struct{}, 1)
	failed := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	l := Loop[int]{Slots: 3, Poll: time.Hour, Kick: kick,
		Claim: func(_ context.Context, n int) ([]int, error) {
			mu.Lock()
			defer mu.Unlock()
			if !failedOnce {
				failedOnce = true
				return nil, errors.New("store down")
			}
			var out []int
			for ; n > 0 && next < total; n-- {
				out = append(out, next)
				next++
			}
			return out, nil
		},
		Work: func(_ context.Context, c int) {
			r := running.Add(1)
			for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
			}
			<-gate
			running.Add(-1)
			done <- c
		},
		Failed: func(err error) { failed <- err },
		Freed: func() {
			freed.Add(1)
			select {
			case kick <- struct{}{}:
			default:
			}
		},
	}
	finished := make(chan struct{})
	go func() { defer close(finished); l.Run(ctx) }()
	if err := <-failed; err == nil {
		t.Fatal("no failure reported")
	}
	kick <- struct{}{}
	close(gate)
	seen := map[int]bool{}
	for range total {
		select {
		case c := <-done:
			seen[c] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d pieces worked", len(seen), total)
		}
	}
	cancel()
	<-finished
	if len(seen) != total || most.Load() > 3 {
		t.Fatalf("worked %d pieces, at most %d at once (slots 3)", len(seen), most.Load())
	}
	deadline := time.Now().Add(10 * time.Second)
	for freed.Load() != total && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // Freed runs just after each piece's done is sent
	}
	if freed.Load() != total {
		t.Fatalf("Freed called %d times, want %d", freed.Load(), total)
	}
}
