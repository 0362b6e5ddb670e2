package followup_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/followup/memsched"
	"github.com/cohub/cohub/internal/testclock"
)

// wakes is a Waker that reports each wake and answers from a script.
type wakes struct {
	mu     sync.Mutex
	count  map[string]int
	seen   chan string
	answer func(id string, n int) (time.Time, error)
}

func newWakes(answer func(string, int) (time.Time, error)) *wakes {
	return &wakes{count: map[string]int{}, seen: make(chan string, 1000), answer: answer}
}

func (w *wakes) Wake(_ context.Context, id string) (time.Time, error) {
	w.mu.Lock()
	w.count[id]++
	n := w.count[id]
	w.mu.Unlock()
	defer func() { w.seen <- id }()
	return w.answer(id, n)
}

func (w *wakes) next(t *testing.T) string {
	t.Helper()
	select {
	case id := <-w.seen:
		return id
	case <-time.After(10 * time.Second):
		t.Fatal("no wake came")
		return ""
	}
}

// run runs a worker on s until the test ends.
func run(t *testing.T, s followup.Schedule, clock *testclock.Clock, w followup.Waker, poll time.Duration) *followup.Worker {
	wk := followup.NewWorker(s, followup.Options{Poll: poll, Lease: time.Minute, Retry: 30 * time.Second, Now: clock.Now}, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); wk.Run(ctx, w) }()
	t.Cleanup(func() { cancel(); <-done })
	return wk
}

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// finishes is a schedule that reports each Finish once it is done.
type finishes struct {
	followup.Schedule
	done chan time.Time
}

func (f finishes) Finish(ctx context.Context, c followup.Claim, next time.Time) error {
	err := f.Schedule.Finish(ctx, c, next)
	f.done <- next
	return err
}

// TestWakesWhenDueAndAsAsked: a session is woken when due, then at the
// time its wake asked for, and not again once it asks for nothing.
func TestWakesWhenDueAndAsAsked(t *testing.T) {
	clock := testclock.New(t0)
	s := finishes{Schedule: memsched.New(), done: make(chan time.Time, 10)}
	w := newWakes(func(_ string, n int) (time.Time, error) {
		if n == 1 {
			return t0.Add(time.Hour), nil
		}
		return time.Time{}, nil
	})
	wk := run(t, s, clock, w, 5*time.Millisecond)
	if err := wk.Sooner(context.Background(), "s1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if id := w.next(t); id != "s1" {
		t.Fatalf("woke %q", id)
	}
	<-s.done
	clock.Set(t0.Add(time.Hour))
	w.next(t)
	if next := <-s.done; !next.IsZero() {
		t.Fatalf("second wake finished with next %v", next)
	}
	clock.Set(t0.Add(48 * time.Hour))
	// The schedule has nothing for s1 once its second wake asked for
	// nothing; a claim proves it (the worker's own poll may race it, but
	// it would then have woken s1 a third time).
	if cs, _ := s.Claim(context.Background(), clock.Now(), time.Minute, 10); len(cs) != 0 {
		t.Fatalf("s1 still scheduled: %+v", cs)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count["s1"] != 2 {
		t.Fatalf("s1 woken %d times, want 2", w.count["s1"])
	}
}

// TestSoonerNowWakesAtOnce: a time already come does not wait the poll
// (an hour here: the test would time out).
func TestSoonerNowWakesAtOnce(t *testing.T) {
	clock := testclock.New(t0)
	w := newWakes(func(string, int) (time.Time, error) { return time.Time{}, nil })
	wk := run(t, memsched.New(), clock, w, time.Hour)
	if err := wk.Sooner(context.Background(), "s1", t0); err != nil {
		t.Fatal(err)
	}
	if id := w.next(t); id != "s1" {
		t.Fatalf("woke %q", id)
	}
}

// TestFailedWakeIsRetried: a wake that fails is woken again after Retry.
func TestFailedWakeIsRetried(t *testing.T) {
	clock := testclock.New(t0)
	w := newWakes(func(_ string, n int) (time.Time, error) {
		if n == 1 {
			return time.Time{}, errors.New("SMTP down")
		}
		return time.Time{}, nil
	})
	s := finishes{Schedule: memsched.New(), done: make(chan time.Time, 10)}
	wk := run(t, s, clock, w, 5*time.Millisecond)
	_ = wk.Sooner(context.Background(), "s1", t0)
	w.next(t)
	// The retry's time is set from the clock when the failed wake
	// finishes: the clock moves only after that.
	if next := <-s.done; !next.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("the failed wake finished with next %v, want Retry later", next)
	}
	if cs, _ := s.Claim(context.Background(), t0.Add(29*time.Second), time.Minute, 1); len(cs) != 0 {
		t.Fatal("retried before Retry passed")
	}
	clock.Advance(30 * time.Second)
	w.next(t)
}

// TestTwoWorkersWakeEachOnce: two nodes' workers on one schedule wake
// each due session once.
func TestTwoWorkersWakeEachOnce(t *testing.T) {
	const n = 60
	clock := testclock.New(t0)
	s := memsched.New()
	w := newWakes(func(string, int) (time.Time, error) { return time.Time{}, nil })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wk := followup.NewWorker(s, followup.Options{Poll: time.Millisecond, Now: clock.Now}, zerolog.Nop())
		wg.Go(func() { wk.Run(ctx, w) })
	}
	for i := range n {
		_ = s.Sooner(ctx, fmt.Sprintf("s%d", i), t0)
	}
	for range n {
		w.next(t)
	}
	cancel()
	wg.Wait()
	for id, k := range w.count {
		if k != 1 {
			t.Errorf("%s woken %d times", id, k)
		}
	}
	if len(w.count) != n {
		t.Errorf("%d sessions woken, want %d", len(w.count), n)
	}
}
