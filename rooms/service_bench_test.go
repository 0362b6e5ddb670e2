package rooms_test

import (
	"context"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/redisstore"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkSessionCreateGetHistory measures one agent's round: start a
// session (its invitation goes to the outbox), open it, and query the
// history panel, on each backend.
func BenchmarkSessionCreateGetHistory(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			var store rooms.Store = memstore.New(nil)
			var outbox notify.Outbox = notify.NewMemoryOutbox(1000)
			if backend == "redis" {
				rdb, prefix := redistest.Client(b)
				store = redisstore.New(rdb, prefix, redisstore.Options{})
				outbox = notify.NewRedisOutbox(rdb, prefix, 1000)
			}
			svc := rooms.NewService(store, notify.Mux{Email: outbox, SMS: outbox}, rooms.Config{
				Secret: []byte("bench-secret-0123456789"), PublicURL: "http://cohub.test", BcryptCost: bcrypt.MinCost,
			}, zerolog.Nop())
			ctx := context.Background()
			team, err := svc.Accounts.CreateTeam(ctx, "Bench", nil)
			if err != nil {
				b.Fatal(err)
			}
			agent, err := svc.Accounts.CreateAgent(ctx, rooms.AgentInput{Agent: rooms.Agent{Email: "bench@cohub.test", Name: "Bench",
				Role: rooms.RoleAgent, TeamID: team.ID}, Password: "bench-password"})
			if err != nil {
				b.Fatal(err)
			}
			req := rooms.CreateRequest{Mode: "start", Customer: rooms.Customer{Name: "Cara", Email: "cara@example.com"}}
			b.ReportAllocs()
			for b.Loop() {
				s, err := svc.Sessions.Create(ctx, agent, req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Sessions.Show(ctx, agent, s.ID); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Sessions.History(ctx, agent, rooms.HistoryQuery{Limit: 20}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEventDigest is what the hash chain adds to each message: the
// digest of its content, computed before it is logged.
func BenchmarkEventDigest(b *testing.B) {
	e := rooms.Event{Type: rooms.EventMessage, At: time.Now(), From: &rooms.Actor{Role: "customer", ID: "s_01J9Z8Q6V0K3M5N7P9R1T3V5X7"},
		Text: "a hundred bytes of chat, give or take: the size the side-by-side bench sends in each message."}
	b.ReportAllocs()
	for b.Loop() {
		if rooms.EventDigest(e) == "" {
			b.Fatal("no digest")
		}
	}
}

// BenchmarkWSTicket measures what a WebSocket's opening now costs
// before the upgrade: issue a ticket and take it (seal, store, take,
// open), on each backend.
func BenchmarkWSTicket(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			var store rooms.Store = memstore.New(nil)
			if backend == "redis" {
				rdb, prefix := redistest.Client(b)
				store = redisstore.New(rdb, prefix, redisstore.Options{})
			}
			svc := rooms.NewService(store, nil, rooms.Config{Secret: []byte("bench-secret-0123456789")}, zerolog.Nop())
			ctx := context.Background()
			cred := rooms.Credential{Token: "a-login-token-of-43-characters-like-the-real"}
			for b.Loop() {
				t, _, err := svc.Tickets.Issue(ctx, cred)
				if err != nil {
					b.Fatal(err)
				}
				if got, err := svc.Tickets.Take(ctx, t); err != nil || got != cred {
					b.Fatal(got, err)
				}
			}
		})
	}
}
