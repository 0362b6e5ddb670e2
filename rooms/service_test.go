package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/notify"
)

func TestLinkSignature(t *testing.T) {
	secret := []byte("0123456789abcdef")
	exp := time.Unix(1900000000, 0).UTC()
	tok := signLink(secret, LinkClaims{SessionID: "s_1", Gen: 3, Expires: exp})
	c, err := parseLink(secret, tok)
	if err != nil || c.SessionID != "s_1" || c.Gen != 3 || !c.Expires.Equal(exp) {
		t.Fatalf("round trip: %+v %v", c, err)
	}
	for _, bad := range []string{
		strings.Replace(tok, ".3.", ".4.", 1), // another generation
		strings.Replace(tok, "s_1", "s_2", 1), // another session
		tok[:len(tok)-1],                      // cut signature
		"", "no-dots", "a.b.c.d.e",
	} {
		if _, err := parseLink(secret, bad); !errors.Is(err, ErrLinkInvalid) {
			t.Errorf("%q: %v, want ErrLinkInvalid", bad, err)
		}
	}
	if _, err := parseLink([]byte("another-secret-xx"), tok); !errors.Is(err, ErrLinkInvalid) {
		t.Errorf("a link signed with another secret was accepted")
	}
}

func TestIndicatorStates(t *testing.T) {
	pending := []Task{{Status: TaskPending}}
	done := []Task{{Status: TaskCompleted}}
	for _, c := range []struct {
		joined, online bool
		tasks          []Task
		want           string
	}{
		{false, false, done, NeverJoined},
		{false, true, nil, NeverJoined},
		{true, true, pending, OnlineIncomplete},
		{true, true, nil, OnlineIncomplete}, // no task is not completed
		{true, false, pending, OfflineIncomplete},
		{true, true, done, OnlineCompleted},
		{true, false, done, OfflineCompleted},
	} {
		s := &Session{Tasks: c.tasks, Internal: SessionInternal{Joined: c.joined}}
		if got := ComputeIndicator(s, c.online, time.Now()); got.State != c.want {
			t.Errorf("joined=%v online=%v tasks=%v: %s, want %s", c.joined, c.online, c.tasks, got.State, c.want)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[time.Duration]string{72 * time.Hour: `"72h"`, 90 * time.Minute: `"1h30m"`, 0: `"0s"`, 1500 * time.Millisecond: `"1.5s"`} {
		b, _ := json.Marshal(Duration(in))
		if string(b) != want {
			t.Errorf("%v marshals to %s, want %s", in, b, want)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back.Std() != in {
			t.Errorf("%s reads back as %v (%v)", b, back, err)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"soon"`), &d); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func TestCustomerAccess(t *testing.T) {
	end := time.Now()
	s := &Session{State: StateEnded, EndedAt: &end}
	for _, c := range []struct {
		access EndAccess
		at     time.Duration
		want   string
	}{
		{EndAccess{Mode: AccessNone}, 0, ""},
		{EndAccess{Mode: AccessFull}, 1000 * time.Hour, AccessLevelFull},
		{EndAccess{Mode: AccessFullFor, Duration: Duration(time.Hour)}, 59 * time.Minute, AccessLevelFull},
		{EndAccess{Mode: AccessFullFor, Duration: Duration(time.Hour)}, time.Hour, ""},
		{EndAccess{Mode: AccessLimitedFor, Duration: Duration(time.Hour)}, 30 * time.Minute, AccessLevelLimited},
		{EndAccess{Mode: AccessLimitedFor, Duration: Duration(time.Hour)}, 2 * time.Hour, ""},
	} {
		s.Access = &c.access
		if got := CustomerAccess(s, end.Add(c.at)); got != c.want {
			t.Errorf("%+v at +%v: %q, want %q", c.access, c.at, got, c.want)
		}
	}
	if CustomerAccess(&Session{State: StateActive}, end) != AccessLevelFull {
		t.Error("an active session gives full access")
	}
}

// BenchmarkSessionCreateGetHistory measures one agent's round: start a
// session (its invitation goes to the outbox), open it, and query the
// history panel, on each backend.
func BenchmarkSessionCreateGetHistory(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			var store Store = NewMemStore()
			var outbox notify.Outbox = notify.NewMemoryOutbox(1000)
			if backend == "redis" {
				rdb, prefix := redistest.Client(b)
				store = NewRedisStore(rdb, prefix, RedisOptions{})
				outbox = notify.NewRedisOutbox(rdb, prefix, 1000)
			}
			svc := NewService(store, notify.Mux{Email: outbox, SMS: outbox}, Config{
				Secret: []byte("bench-secret-0123456789"), PublicURL: "http://cohub.test", BcryptCost: bcrypt.MinCost,
			}, zerolog.Nop())
			ctx := context.Background()
			team, err := svc.CreateTeam(ctx, "Bench", nil)
			if err != nil {
				b.Fatal(err)
			}
			agent, err := svc.CreateAgent(ctx, AgentInput{Agent: Agent{Email: "bench@cohub.test", Name: "Bench",
				Role: RoleAgent, TeamID: team.ID}, Password: "bench-password"})
			if err != nil {
				b.Fatal(err)
			}
			req := CreateRequest{Mode: "start", Customer: Customer{Name: "Cara", Email: "cara@example.com"}}
			b.ReportAllocs()
			for b.Loop() {
				s, err := svc.Create(ctx, agent, req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Get(ctx, agent, s.ID); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.History(ctx, agent, HistoryQuery{Limit: 20}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Tokens stored before token generations existed hold a bare agent id:
// they read as generation 0, which every agent starts at.
func TestLoginTokenEncoding(t *testing.T) {
	for stored, want := range map[string]LoginToken{
		"a_1":   {AgentID: "a_1"},
		"a_1 0": {AgentID: "a_1"},
		"a_1 7": {AgentID: "a_1", Gen: 7},
	} {
		if got := decodeLoginToken(stored); got != want {
			t.Errorf("decode %q = %+v, want %+v", stored, got, want)
		}
	}
	if got := decodeLoginToken(LoginToken{AgentID: "a_2", Gen: 3}.encode()); got != (LoginToken{AgentID: "a_2", Gen: 3}) {
		t.Errorf("round trip = %+v", got)
	}
}

// A record written when "locked" was the authentication itself reads as
// a timed lockout: locked until its time, then pending again.
func TestLegacyLockedRecord(t *testing.T) {
	until := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	b, err := json.Marshal(map[string]any{"id": "s_1", "state": "active",
		"internal": map[string]any{"authentication": "locked", "auth_fails": 5, "locked_until": until}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := decodeSession(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := authState(s, until.Add(-time.Minute)); got != AuthLocked {
		t.Fatalf("before the lock ends: %s", got)
	}
	if got := authState(s, until); got != AuthPending {
		t.Fatalf("when the lock ends: %s", got)
	}
	if s.Internal.Lockouts != 1 {
		t.Fatalf("the next lockout must escalate: lockouts %d", s.Internal.Lockouts)
	}
}
