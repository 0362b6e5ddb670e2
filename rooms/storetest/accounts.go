package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

func contractAgents(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	a := &rooms.Agent{ID: "a_1", Email: "Ann@Example.com", Name: "Ann", Role: rooms.RoleAgent, TeamID: "t_1",
		SettingsTeamIDs: []string{"t_2"}, PasswordHash: []byte("hash")}
	Must(t, st.CreateAgent(ctx, a))
	dup := &rooms.Agent{ID: "a_2", Email: "ann@example.com", Name: "Other", Role: rooms.RoleAgent}
	if err := st.CreateAgent(ctx, dup); !errors.Is(err, rooms.ErrEmailTaken) {
		t.Fatalf("duplicate email: got %v, want ErrEmailTaken", err)
	}
	got, err := st.AgentByEmail(ctx, "ANN@example.com")
	Must(t, err)
	if got.ID != "a_1" || string(got.PasswordHash) != "hash" || got.SettingsTeamIDs[0] != "t_2" {
		t.Fatalf("AgentByEmail = %+v", got)
	}
	b := &rooms.Agent{ID: "a_2", Email: "bob@example.com", Name: "Bob", Role: rooms.RoleAdmin}
	Must(t, st.CreateAgent(ctx, b))
	b.Email = "ann@example.com"
	if err := st.UpdateAgent(ctx, b); !errors.Is(err, rooms.ErrEmailTaken) {
		t.Fatalf("update to a taken email: got %v", err)
	}
	a.Email, a.Name = "ann2@example.com", "Ann B"
	Must(t, st.UpdateAgent(ctx, a))
	if _, err := st.AgentByEmail(ctx, "ann@example.com"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("old email still resolves: %v", err)
	}
	got, err = st.Agent(ctx, "a_1")
	Must(t, err)
	if got.Name != "Ann B" || got.Email != "ann2@example.com" {
		t.Fatalf("after update: %+v", got)
	}
	if err := st.UpdateAgent(ctx, &rooms.Agent{ID: "a_9", Email: "x@example.com"}); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("update of a missing agent: %v", err)
	}
	list, err := st.ListAgents(ctx)
	Must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListAgents: %d agents", len(list))
	}
	if _, err := st.Agent(ctx, "nope"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("missing agent: %v", err)
	}
}

func contractTeams(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	set, err := st.Settings(ctx)
	Must(t, err)
	if !reflect.DeepEqual(set, rooms.DefaultSettings()) {
		t.Fatalf("fresh settings = %+v", set)
	}
	set.HistoryDays = 7
	set.EndSessionAccess = rooms.EndAccess{Mode: rooms.AccessNone}
	Must(t, st.PutSettings(ctx, set))
	got, err := st.Settings(ctx)
	Must(t, err)
	if !reflect.DeepEqual(got, set) {
		t.Fatalf("settings = %+v, want %+v", got, set)
	}
	team := &rooms.Team{ID: "t_1", Name: "Sales", Settings: rooms.TeamSettings{
		TaskTemplates: []rooms.TaskTemplate{{Kind: "sign", Title: "Sign"}}, CustomerAuthentication: "pin"}}
	Must(t, st.PutTeam(ctx, team))
	Must(t, st.PutTeam(ctx, &rooms.Team{ID: "t_2", Name: "Support"}))
	tt, err := st.Team(ctx, "t_1")
	Must(t, err)
	if tt.Name != "Sales" || tt.Settings.TaskTemplates[0].Title != "Sign" || tt.Settings.CustomerAuthentication != "pin" {
		t.Fatalf("team = %+v", tt)
	}
	teams, err := st.ListTeams(ctx)
	Must(t, err)
	if len(teams) != 2 || teams[0].Name != "Sales" {
		t.Fatalf("teams = %+v", teams)
	}
	if _, err := st.Team(ctx, "t_9"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("missing team: %v", err)
	}
}

func contractTokens(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	Must(t, st.PutToken(ctx, "h1", rooms.LoginToken{AgentID: "a_1", Gen: 3}, time.Hour))
	got, err := st.Token(ctx, "h1")
	Must(t, err)
	if got != (rooms.LoginToken{AgentID: "a_1", Gen: 3}) {
		t.Fatalf("token = %+v", got)
	}
	Must(t, st.DeleteToken(ctx, "h1"))
	if _, err := st.Token(ctx, "h1"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("deleted token: %v", err)
	}
	Must(t, st.PutToken(ctx, "h2", rooms.LoginToken{AgentID: "a_1"}, time.Millisecond))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := st.Token(ctx, "h2")
		if errors.Is(err, rooms.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token did not expire: %v", err)
		}
		time.Sleep(5 * time.Millisecond) // polling for expiry: there is no event to await
	}
}

// contractTickets: a ticket is taken once, whoever races for it, and
// not after its time.
func contractTickets(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	if _, err := st.TakeTicket(ctx, "never"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("a ticket never issued: %v", err)
	}
	Must(t, st.PutTicket(ctx, "h1", []byte("sealed\x00bytes"), time.Minute))
	const racers = 8
	got := make(chan []byte, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			if b, err := st.TakeTicket(ctx, "h1"); err == nil {
				got <- b
			} else if !errors.Is(err, rooms.ErrNotFound) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(got)
	var taken [][]byte
	for b := range got {
		taken = append(taken, b)
	}
	if len(taken) != 1 || string(taken[0]) != "sealed\x00bytes" {
		t.Fatalf("%d racers took the ticket: %q", len(taken), taken)
	}
	Must(t, st.PutTicket(ctx, "h2", []byte("x"), time.Millisecond))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := st.TakeTicket(ctx, "h2")
		if errors.Is(err, rooms.ErrNotFound) {
			break
		}
		Must(t, err)
		if time.Now().After(deadline) {
			t.Fatal("a ticket did not expire")
		}
		// Taken before it expired: put it back and look again. Polling
		// for expiry: there is no event to await.
		Must(t, st.PutTicket(ctx, "h2", []byte("x"), time.Millisecond))
		time.Sleep(5 * time.Millisecond)
	}
}

// contractAPIKeys: a key is found by its hash until deleted, and lists
// with its last use.
func contractAPIKeys(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)
	k := rooms.APIKey{ID: "key_1", Name: "CRM", AgentID: "a_1", CreatedAt: at, CreatedBy: "a_0", Hash: "h1"}
	Must(t, st.PutAPIKey(ctx, k))
	Must(t, st.PutAPIKey(ctx, rooms.APIKey{ID: "key_2", Name: "Other", AgentID: "a_2", CreatedAt: at, Hash: "h2"}))
	got, err := st.APIKeyByHash(ctx, "h1")
	Must(t, err)
	if got.ID != "key_1" || got.Name != "CRM" || got.AgentID != "a_1" || !got.CreatedAt.Equal(at) || got.LastUsedAt != nil {
		t.Fatalf("key = %+v", got)
	}
	used := at.Add(time.Minute)
	Must(t, st.TouchAPIKey(ctx, "key_1", used))
	list, err := st.ListAPIKeys(ctx)
	Must(t, err)
	if len(list) != 2 {
		t.Fatalf("list = %+v", list)
	}
	for _, k := range list {
		if (k.ID == "key_1") != (k.LastUsedAt != nil && k.LastUsedAt.Equal(used)) {
			t.Fatalf("last use of %s = %v", k.ID, k.LastUsedAt)
		}
	}
	Must(t, st.DeleteAPIKey(ctx, "key_1"))
	if _, err := st.APIKeyByHash(ctx, "h1"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("a deleted key: %v", err)
	}
	if err := st.DeleteAPIKey(ctx, "key_1"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	if list, _ := st.ListAPIKeys(ctx); len(list) != 1 || list[0].ID != "key_2" {
		t.Fatalf("after delete: %+v", list)
	}
}

func contractHitOnce(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	for i := int64(1); i <= 3; i++ {
		n, err := st.Hit(ctx, "login:x", time.Minute)
		Must(t, err)
		if n != i {
			t.Fatalf("hit %d counted %d", i, n)
		}
	}
	// Unhit takes one back; a counter that never was stays at none.
	Must(t, st.Unhit(ctx, "login:x"))
	if n, err := st.Count(ctx, "login:x"); err != nil || n != 2 {
		t.Fatalf("after an unhit: %d, %v; want 2", n, err)
	}
	Must(t, st.Unhit(ctx, "login:none"))
	if n, err := st.Count(ctx, "login:none"); err != nil || n != 0 {
		t.Fatalf("an unhit of nothing made %d, %v", n, err)
	}
	var wg sync.WaitGroup
	wins := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.Once(ctx, "seed")
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for ok := range wins {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("Once won %d times", n)
	}
}

// Rewriter is a store that can rewrite an ended log in place.
type Rewriter interface {
	rooms.Store
	rooms.LogRewriter
}

// Rewrite: the events a rewrite changes are stored in their place, with
// their seq; the others and the log's end stay as they were.
func Rewrite(t *testing.T, st Rewriter) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	s := NewSession("s_w", "a_1", "t_1", now)
	Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage, Text: "one", At: now},
		{Type: rooms.EventMessage, Text: "two", At: now}, {Type: rooms.EventMessage, Text: "three", At: now}}, 0)
	n, err := st.RewriteLog(ctx, "s_w", func(e rooms.Event) (rooms.Event, bool) {
		if e.Text != "two" {
			return e, false
		}
		e.Text, e.Erased = "", true
		return e, true
	})
	Must(t, err)
	evs, err := st.Events(ctx, "s_w", 0, 0)
	Must(t, err)
	if n != 1 || len(evs) != 3 || evs[0].Text != "one" || evs[1].Text != "" || !evs[1].Erased || evs[1].Seq != 2 || evs[2].Text != "three" {
		t.Fatalf("rewrote %d: %+v", n, evs)
	}
	out := Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage, Text: "four", At: now}}, 0)
	if out[0].Seq != 4 {
		t.Fatalf("after a rewrite the log goes on at %d", out[0].Seq)
	}
}
