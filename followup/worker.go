package followup

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/claimloop"
)

// maxInFlight bounds one node's wakes at once: a wake may wait on an
// SMTP server or an SMS provider.
const maxInFlight = 8

// Options tune a Worker. Zero values take the defaults.
type Options struct {
	// Poll is how often the worker looks for due sessions (1 s): a
	// wake-up is at most this late, plus the time to send.
	Poll time.Duration
	// Lease is how long a claim hides a session from other nodes (2 min):
	// longer than a wake takes, so a live node's wake is never taken over.
	Lease time.Duration
	// Retry is how soon a session whose wake failed is woken again (1 min).
	Retry time.Duration
	// Now is the clock (time.Now); tests set theirs.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Retry <= 0 {
		o.Retry = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Worker wakes the sessions of a Schedule that are due. Every node runs
// one; the schedule's claims give each wake-up to one of them.
type Worker struct {
	sched Schedule
	opts  Options
	log   zerolog.Logger
	kick  chan struct{}
}

// NewWorker runs wake-ups of s.
func NewWorker(s Schedule, opts Options, log zerolog.Logger) *Worker {
	return &Worker{sched: s, opts: opts.withDefaults(), log: log, kick: make(chan struct{}, 1)}
}

// Sooner makes a session due no later than at (the domain's Scheduler).
// A time already come wakes this node's worker now, not at its next poll.
func (w *Worker) Sooner(ctx context.Context, id string, at time.Time) error {
	if err := w.sched.Sooner(ctx, id, at); err != nil {
		return err
	}
	if !at.After(w.opts.Now()) {
		w.poke()
	}
	return nil
}

// poke makes the loop claim again now: a time has come, or a slot is
// free while more may be due.
func (w *Worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run wakes due sessions through waker until ctx ends. A wake cut short
// by ctx finishes nothing: its lease runs out and a node wakes it again.
// A slot freed claims again at once: many sessions due together are
// woken as fast as they can be, not eight a poll.
func (w *Worker) Run(ctx context.Context, waker Waker) {
	claimloop.Loop[Claim]{Slots: maxInFlight, Poll: w.opts.Poll, Kick: w.kick, Freed: w.poke,
		Claim: func(ctx context.Context, n int) ([]Claim, error) {
			return w.sched.Claim(ctx, w.opts.Now(), w.opts.Lease, n)
		},
		Work:   func(ctx context.Context, c Claim) { w.wake(ctx, waker, c) },
		Failed: func(err error) { w.log.Warn().Err(err).Msg("follow-up claim failed") },
	}.Run(ctx)
}

// wake wakes one claimed session and sets when it is due next.
func (w *Worker) wake(ctx context.Context, waker Waker, c Claim) {
	next, err := waker.Wake(ctx, c.SessionID)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		w.log.Warn().Err(err).Str("session", c.SessionID).Msg("follow-up wake failed; retrying")
		next = w.opts.Now().Add(w.opts.Retry)
	}
	if err := w.sched.Finish(ctx, c, next); err != nil {
		w.log.Warn().Err(err).Str("session", c.SessionID).Msg("follow-up finish failed; its lease will run out")
	}
}
