// Package claimloop is the loop every node runs over a queue of leased
// work shared by the nodes (webhook deliveries, follow-up wake-ups):
// claim what free slots allow, work each claim on a goroutine of its
// own, and claim again at each poll and on a kick.
package claimloop

import (
	"context"
	"time"
)

// Loop claims and works pieces of type C. Claim and Work are required.
type Loop[C any] struct {
	// Slots bounds the pieces worked at once.
	Slots int
	// Poll is how often it claims when nothing kicks it.
	Poll time.Duration
	// Kick, when it fires, makes the loop claim now.
	Kick <-chan struct{}
	// Claim takes up to n pieces.
	Claim func(ctx context.Context, n int) ([]C, error)
	// Work does one piece.
	Work func(ctx context.Context, c C)
	// Failed hears of a claim that failed while ctx still runs.
	Failed func(err error)
	// Freed, when set, is called each time a piece is done and its slot
	// free again.
	Freed func()
}

// Run claims and works until ctx ends. Work cut short by ctx is left to
// the claim's lease.
func (l Loop[C]) Run(ctx context.Context) {
	slots := make(chan struct{}, l.Slots)
	tick := time.NewTicker(l.Poll)
	defer tick.Stop()
	for {
		l.claim(ctx, slots)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-l.Kick:
		}
	}
}

// claim takes what free slots allow and works each.
func (l Loop[C]) claim(ctx context.Context, slots chan struct{}) {
	free := cap(slots) - len(slots)
	if free == 0 {
		return
	}
	claims, err := l.Claim(ctx, free)
	if err != nil {
		if ctx.Err() == nil && l.Failed != nil {
			l.Failed(err)
		}
		return
	}
	for _, c := range claims {
		slots <- struct{}{}
		go func() {
			defer l.free(slots)
			l.Work(ctx, c)
		}()
	}
}

func (l Loop[C]) free(slots chan struct{}) {
	<-slots
	if l.Freed != nil {
		l.Freed()
	}
}
