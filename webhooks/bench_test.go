package webhooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/memqueue"
	"github.com/cohub/cohub/webhooks/redisqueue"
)

// benchEngines runs fn on each engine, with three endpoints registered.
func benchEngines(b *testing.B, fn func(b *testing.B, svc *webhooks.Service, st webhooks.Store)) {
	run := func(b *testing.B, st webhooks.Store) {
		svc := webhooks.NewService(st, webhooks.Options{}, zerolog.Nop())
		for _, u := range []string{"https://a.example.com/", "https://b.example.com/", "https://c.example.com/"} {
			if _, err := svc.Create(context.Background(), webhooks.EndpointInput{URL: &u}); err != nil {
				b.Fatal(err)
			}
		}
		fn(b, svc, st)
	}
	b.Run("memory", func(b *testing.B) { run(b, memqueue.New()) })
	b.Run("redis", func(b *testing.B) {
		rdb, prefix := redistest.Client(b)
		run(b, redisqueue.New(rdb, prefix))
	})
}

// BenchmarkEmit is what a commit's path pays to queue one event for
// three endpoints: the endpoints' read and one enqueue.
func BenchmarkEmit(b *testing.B) {
	benchEngines(b, func(b *testing.B, svc *webhooks.Service, _ webhooks.Store) {
		ev := webhooks.Event{Type: webhooks.SessionEnded, Timestamp: time.Now(), Data: map[string]any{"session_id": "s_1"}}
		for b.Loop() {
			if err := svc.Emit(context.Background(), ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClaimFinish is the queue's part of one delivery: its claim
// and its outcome recorded (the HTTP request aside).
func BenchmarkClaimFinish(b *testing.B) {
	benchEngines(b, func(b *testing.B, svc *webhooks.Service, st webhooks.Store) {
		ctx := context.Background()
		ev := webhooks.Event{Type: webhooks.SessionEnded, Timestamp: time.Now(), Data: map[string]any{"session_id": "s_1"}}
		for b.Loop() {
			b.StopTimer()
			if err := svc.Emit(ctx, ev); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			cs, err := st.Claim(ctx, time.Now(), time.Minute, 16)
			if err != nil || len(cs) != 3 {
				b.Fatalf("claimed %d: %v", len(cs), err)
			}
			for _, c := range cs {
				d := c.Delivery
				d.Status, d.NextAttemptAt, d.Attempts = webhooks.StatusDelivered, nil, 1
				if ok, err := st.Finish(ctx, c.Token, d); !ok || err != nil {
					b.Fatalf("finish: %v %v", ok, err)
				}
			}
		}
	})
}
