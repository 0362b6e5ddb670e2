// Package storetest is the one contract every store of rooms passes: the
// memory store and the Redis store run the same suites (Run, Assets,
// Rebase), so the rules the Redis store runs in Lua (the write gate, the
// rate limit, named commits) answer as the memory store's Go does.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

// Run is the one suite every Store must pass; open gives each part a
// store of its own.
func Run(t *testing.T, open func(t *testing.T) rooms.Store) {
	t.Run("agents", func(t *testing.T) { contractAgents(t, open(t)) })
	t.Run("teams and settings", func(t *testing.T) { contractTeams(t, open(t)) })
	t.Run("tokens", func(t *testing.T) { contractTokens(t, open(t)) })
	t.Run("tickets", func(t *testing.T) { contractTickets(t, open(t)) })
	t.Run("api keys", func(t *testing.T) { contractAPIKeys(t, open(t)) })
	t.Run("hit and once", func(t *testing.T) { contractHitOnce(t, open(t)) })
	t.Run("commit and log", func(t *testing.T) { contractCommit(t, open(t)) })
	t.Run("conflict", func(t *testing.T) { contractConflict(t, open(t)) })
	t.Run("room full", func(t *testing.T) { contractRoomFull(t, open(t)) })
	t.Run("named commits happen once", func(t *testing.T) { contractOnce(t, open(t)) })
	t.Run("rate", func(t *testing.T) { contractRate(t, open(t)) })
	t.Run("append", func(t *testing.T) { contractAppend(t, open(t)) })
	t.Run("append gate", func(t *testing.T) { contractAppendGate(t, open(t)) })
	t.Run("history", func(t *testing.T) { contractHistory(t, open(t)) })
	t.Run("idle", func(t *testing.T) { contractIdle(t, open(t)) })
	t.Run("digests", func(t *testing.T) { contractDigests(t, open(t)) })
	t.Run("read horizons", func(t *testing.T) { contractRead(t, open(t)) })
}

// NewSession is an active session of agent in team, created at at.
func NewSession(id, agent, team string, at time.Time) *rooms.Session {
	return &rooms.Session{ID: id, State: rooms.StateActive, Mode: "start", AgentID: agent, TeamID: team,
		Customer: rooms.Customer{Name: "Cara", Email: "cara@example.com"}, CreatedAt: at, UpdatedAt: at,
		Internal: rooms.SessionInternal{LinkGen: 1, LastAgentAt: at, PINHash: []byte("pin")}}
}

func contractCommit(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	s := NewSession("s_1", "a_1", "t_1", now)
	evs, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage, At: now, Text: "one"}, {Type: rooms.EventMessage, At: now, Text: "two"}}, rooms.CommitOptions{})
	Must(t, err)
	if len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 2 || s.Internal.Version != 1 {
		t.Fatalf("first commit: %+v version %d", evs, s.Internal.Version)
	}
	seq, epoch, err := st.LastSeq(ctx, "s_1")
	Must(t, err)
	if seq != 2 || epoch == "" {
		t.Fatalf("LastSeq = %d %q", seq, epoch)
	}
	got, err := st.Session(ctx, "s_1")
	Must(t, err)
	if got.Internal.Version != 1 || got.Internal.LinkGen != 1 || string(got.Internal.PINHash) != "pin" || !got.UpdatedAt.Equal(now) {
		t.Fatalf("stored session = %+v", got)
	}
	got.State = rooms.StateEnded
	evs, err = st.Commit(ctx, got, []rooms.Event{{Type: rooms.EventSessionEnded, At: now}}, rooms.CommitOptions{})
	Must(t, err)
	if evs[0].Seq != 3 {
		t.Fatalf("third event seq %d", evs[0].Seq)
	}
	_, epoch2, err := st.LastSeq(ctx, "s_1")
	Must(t, err)
	if epoch2 != epoch {
		t.Fatalf("epoch changed %q -> %q", epoch, epoch2)
	}
	all, err := st.Events(ctx, "s_1", 0, 0)
	Must(t, err)
	if len(all) != 3 || all[0].Text != "one" || all[2].Type != rooms.EventSessionEnded || all[2].Seq != 3 {
		t.Fatalf("events = %+v", all)
	}
	tail, err := st.Events(ctx, "s_1", 1, 1)
	Must(t, err)
	if len(tail) != 1 || tail[0].Seq != 2 {
		t.Fatalf("events since 1 limit 1 = %+v", tail)
	}
	none, err := st.Events(ctx, "s_1", 3, 0)
	Must(t, err)
	if len(none) != 0 {
		t.Fatalf("events past the end = %+v", none)
	}
	many, err := st.SessionsByID(ctx, []string{"s_x", "s_1"})
	Must(t, err)
	if len(many) != 1 || many[0].State != rooms.StateEnded {
		t.Fatalf("SessionsByID = %+v", many)
	}
	if _, err := st.Session(ctx, "s_x"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
	if seq, epoch, err := st.LastSeq(ctx, "s_x"); err != nil || seq != 0 || epoch != "" {
		t.Fatalf("LastSeq of no log = %d %q %v", seq, epoch, err)
	}
	seq1, epoch1, err := st.LastSeq(ctx, "s_1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.LastSeqs(ctx, []string{"s_1", "s_x"}); err != nil ||
		got["s_1"] != (rooms.LogPosition{Seq: seq1, Epoch: epoch1}) || got["s_x"] != (rooms.LogPosition{}) || seq1 == 0 {
		t.Fatalf("LastSeqs = %v %v, want s_1 at %d", got, err, seq1)
	}
}

func contractConflict(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	Commit(t, st, NewSession("s_1", "a_1", "t_1", now), nil, 0)
	again := NewSession("s_1", "a_1", "t_1", now)
	if _, err := st.Commit(ctx, again, nil, rooms.CommitOptions{}); !errors.Is(err, rooms.ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	a, err := st.Session(ctx, "s_1")
	Must(t, err)
	b, err := st.Session(ctx, "s_1")
	Must(t, err)
	Commit(t, st, a, []rooms.Event{{Type: rooms.EventMessage, At: now}}, 0)
	if _, err := st.Commit(ctx, b, []rooms.Event{{Type: rooms.EventMessage, At: now}}, rooms.CommitOptions{}); !errors.Is(err, rooms.ErrConflict) {
		t.Fatalf("stale commit: %v", err)
	}
	seq, _, err := st.LastSeq(ctx, "s_1")
	Must(t, err)
	if seq != 1 {
		t.Fatalf("a refused commit appended: seq %d", seq)
	}
	// Concurrent writers: each retries on conflict; every event lands once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				for {
					s, err := st.Session(ctx, "s_1")
					if err != nil {
						t.Error(err)
						return
					}
					_, err = st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage, At: now}}, rooms.CommitOptions{})
					if err == nil {
						break
					}
					if !errors.Is(err, rooms.ErrConflict) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	evs, err := st.Events(ctx, "s_1", 0, 0)
	Must(t, err)
	if len(evs) != 21 {
		t.Fatalf("after concurrent commits: %d events, want 21", len(evs))
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
}

func contractRoomFull(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	s := NewSession("s_1", "a_1", "t_1", time.Now())
	Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage}, {Type: rooms.EventMessage}}, 3)
	if _, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage}, {Type: rooms.EventMessage}}, rooms.CommitOptions{MaxEvents: 3}); !errors.Is(err, rooms.ErrRoomFull) {
		t.Fatalf("past the cap: %v", err)
	}
	got, err := st.Session(ctx, "s_1")
	Must(t, err)
	if got.Internal.Version != 1 {
		t.Fatalf("a refused commit changed the session: version %d", got.Internal.Version)
	}
	Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage}}, 3)
	Commit(t, st, s, []rooms.Event{{Type: rooms.EventSessionEnded}}, 0)
	seq, _, err := st.LastSeq(ctx, "s_1")
	Must(t, err)
	if seq != 4 {
		t.Fatalf("seq %d, want 4", seq)
	}
}

func contractHistory(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 7 {
		agent, team := "a_1", "t_1"
		if i%2 == 1 {
			agent, team = "a_2", "t_2"
		}
		s := NewSession(fmt.Sprintf("s_%d", i), agent, team, base.Add(time.Duration(i)*time.Second))
		Commit(t, st, s, nil, 0)
	}
	// Two sessions sharing a score order by id, descending.
	same := NewSession("s_a", "a_1", "t_1", base.Add(6*time.Second))
	Commit(t, st, same, nil, 0)

	var ids []string
	cur := rooms.Cursor{}
	for {
		page, err := st.History(ctx, rooms.IndexAll, cur, base.Add(-time.Hour), 3)
		Must(t, err)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		last := page[len(page)-1]
		cur = rooms.Cursor{Score: last.Score, ID: last.ID}
	}
	want := []string{"s_a", "s_6", "s_5", "s_4", "s_3", "s_2", "s_1", "s_0"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("history order %v, want %v", ids, want)
	}
	mine, err := st.History(ctx, rooms.IndexAgent("a_2"), rooms.Cursor{}, base.Add(-time.Hour), 10)
	Must(t, err)
	if len(mine) != 3 || mine[0].ID != "s_5" {
		t.Fatalf("agent index = %+v", mine)
	}
	team, err := st.History(ctx, rooms.IndexTeam("t_1"), rooms.Cursor{}, base.Add(3*time.Second), 10)
	Must(t, err)
	if len(team) != 3 || team[2].ID != "s_4" {
		t.Fatalf("team index since +3s = %+v", team)
	}
	// An update moves the session to the top.
	s0, err := st.Session(ctx, "s_0")
	Must(t, err)
	s0.UpdatedAt = base.Add(time.Minute)
	Commit(t, st, s0, nil, 0)
	top, err := st.History(ctx, rooms.IndexAll, rooms.Cursor{}, base, 1)
	Must(t, err)
	if len(top) != 1 || top[0].ID != "s_0" || top[0].Score != s0.UpdatedAt.UnixMilli() {
		t.Fatalf("after update, top = %+v", top)
	}
}

func contractIdle(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	now := time.Now()
	old := NewSession("s_old", "a_1", "t_1", now.Add(-time.Hour))
	fresh := NewSession("s_new", "a_1", "t_1", now)
	ended := NewSession("s_end", "a_1", "t_1", now.Add(-time.Hour))
	ended.State = rooms.StateEnded
	for _, s := range []*rooms.Session{old, fresh, ended} {
		Commit(t, st, s, nil, 0)
	}
	ids, err := st.Idle(ctx, now.Add(-time.Minute), 10)
	Must(t, err)
	if fmt.Sprint(ids) != "[s_old]" {
		t.Fatalf("idle = %v", ids)
	}
	old.State = rooms.StateEnded
	Commit(t, st, old, nil, 0)
	ids, err = st.Idle(ctx, now.Add(-time.Minute), 10)
	Must(t, err)
	if len(ids) != 0 {
		t.Fatalf("idle after end = %v", ids)
	}
}

// Must fails t on err.
func Must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Commit commits s with events (at most max in the log when max > 0)
// and returns them with their seq, failing t on error.
func Commit(t *testing.T, st rooms.Store, s *rooms.Session, events []rooms.Event, max int64) []rooms.Event {
	t.Helper()
	out, err := st.Commit(context.Background(), s, events, rooms.CommitOptions{MaxEvents: max})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A named commit happens once: a retry after a lost reply (even from a
// stale copy of the session) answers with the first one's seq and
// changes nothing.
func contractOnce(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	s := NewSession("s_1", "a_1", "t_1", time.Now())
	Commit(t, st, s, nil, 0)
	stale := *s
	first, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage, Text: "hi"}}, rooms.CommitOptions{Once: "customer:m1"})
	Must(t, err)
	var dup *rooms.DuplicateError
	for _, retry := range []*rooms.Session{s, &stale} {
		_, err := st.Commit(ctx, retry, []rooms.Event{{Type: rooms.EventMessage, Text: "hi"}}, rooms.CommitOptions{Once: "customer:m1"})
		if !errors.As(err, &dup) || dup.LastSeq != first[0].Seq {
			t.Fatalf("retry: %v, want a duplicate of seq %d", err, first[0].Seq)
		}
	}
	evs, err := st.Events(ctx, "s_1", 0, 0)
	Must(t, err)
	got, err := st.Session(ctx, "s_1")
	Must(t, err)
	if len(evs) != 1 || got.Internal.Version != 2 {
		t.Fatalf("after the retries: %d events, version %d", len(evs), got.Internal.Version)
	}
	// Names are kept for at least the room's last OnceKeep commits, and
	// trimmed (every 32 messages) past that.
	for i := range rooms.OnceKeep + 32 {
		_, err := st.Commit(ctx, got, []rooms.Event{{Type: rooms.EventMessage}}, rooms.CommitOptions{Once: fmt.Sprint("n", i)})
		Must(t, err)
	}
	if _, err := st.Commit(ctx, got, []rooms.Event{{Type: rooms.EventMessage}}, rooms.CommitOptions{Once: "customer:m1"}); err != nil {
		t.Fatalf("a name past the window is new again: %v", err)
	}
	if _, err := st.Commit(ctx, got, []rooms.Event{{Type: rooms.EventMessage}}, rooms.CommitOptions{Once: fmt.Sprint("n", rooms.OnceKeep-1)}); !errors.As(err, &dup) {
		t.Fatalf("a recent name committed twice: %v", err)
	}
}

// A rate limits one key's commits, not another's, and a refused commit
// changes nothing.
func contractRate(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	s := NewSession("s_1", "a_1", "t_1", time.Now())
	Commit(t, st, s, nil, 0)
	rate := func(key string) rooms.CommitOptions {
		return rooms.CommitOptions{Rate: &rooms.Rate{Key: key, Every: time.Hour, Burst: 2}}
	}
	for range 2 {
		_, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage}}, rate("customer"))
		Must(t, err)
	}
	_, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage}}, rate("customer"))
	var rl *rooms.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, rooms.ErrRateLimited) || rl.RetryAfter < 59*time.Minute || rl.RetryAfter > time.Hour {
		t.Fatalf("third commit within the hour: %v", err)
	}
	if _, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage}}, rate("agent:a_1")); err != nil {
		t.Fatalf("another key: %v", err)
	}
	evs, err := st.Events(ctx, "s_1", 0, 0)
	Must(t, err)
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
}

// Message is a chat message of role to append at now.
func Message(role, text string, now time.Time) rooms.MessageAppend {
	from := &rooms.Actor{Role: role}
	if role == "agent" {
		from.ID, from.Name = "a_1", "Ann"
	}
	return rooms.MessageAppend{Event: rooms.Event{Type: rooms.EventMessage, At: now, From: from, Text: text}, Now: now}
}

// Append logs a message from the session's small fields: the version does
// not move (no conflict with lifecycle commits), the customer's name is
// the one on file, the activity moves forward and a commit from an older
// read never moves it back; only the agent's opening clears "updated".
func contractAppend(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := st.Append(ctx, "s_none", Message("agent", "hi", t0)); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("append to no session: %v", err)
	}
	s := NewSession("s_1", "a_1", "t_1", t0)
	Commit(t, st, s, nil, 0)
	stale, err := st.Session(ctx, "s_1")
	Must(t, err)

	t1 := t0.Add(time.Minute)
	m := Message("customer", "hello", t1)
	m.MarkUpdated = true
	got, err := st.Append(ctx, "s_1", m)
	Must(t, err)
	if got.Event.Seq != 1 || got.Event.From.Name != "Cara" || got.AgentID != "a_1" || got.TeamID != "t_1" || !got.MarkedUpdated {
		t.Fatalf("customer's append = %+v", got)
	}
	if again, err := st.Append(ctx, "s_1", m); err != nil || again.MarkedUpdated {
		t.Fatalf("a second mark is not new: %+v %v", again, err)
	}
	t2 := t1.Add(time.Minute)
	agent, err := st.Append(ctx, "s_1", Message("agent", "welcome", t2))
	Must(t, err)
	cur, err := st.Session(ctx, "s_1")
	Must(t, err)
	if agent.Event.Seq != 3 || cur.Internal.Version != 1 || !cur.Updated || !cur.UpdatedAt.Equal(t2) || !cur.Internal.LastAgentAt.Equal(t2) {
		t.Fatalf("after the messages: seq %d, version %d, updated %v at %v, agent at %v",
			agent.Event.Seq, cur.Internal.Version, cur.Updated, cur.UpdatedAt, cur.Internal.LastAgentAt)
	}
	evs, err := st.Events(ctx, "s_1", 0, 0)
	Must(t, err)
	if len(evs) != 3 || evs[0].From.Name != "Cara" || evs[2].Text != "welcome" {
		t.Fatalf("log = %+v", evs)
	}

	// A lifecycle commit built from the read before the messages keeps
	// their activity; it does not conflict with them.
	stale.Tasks = []rooms.Task{{ID: "k_1", Kind: "sign", Title: "Sign", Status: rooms.TaskPending}}
	Commit(t, st, stale, nil, 0)
	cur, err = st.Session(ctx, "s_1")
	Must(t, err)
	if len(cur.Tasks) != 1 || !cur.Updated || !cur.UpdatedAt.Equal(t2) || !cur.Internal.LastAgentAt.Equal(t2) {
		t.Fatalf("a commit from an older read moved the activity back: %+v", cur)
	}
	cur.Updated = false
	if _, err := st.Commit(ctx, cur, nil, rooms.CommitOptions{ClearUpdated: true}); err != nil {
		t.Fatal(err)
	}
	if cur, err = st.Session(ctx, "s_1"); err != nil || cur.Updated {
		t.Fatalf("the agent's opening did not clear updated: %+v %v", cur, err)
	}

	// Named, bounded and rate-limited like a commit.
	named := Message("customer", "once", t2)
	named.Opts.Once = "customer:x"
	first, err := st.Append(ctx, "s_1", named)
	Must(t, err)
	var dup *rooms.DuplicateError
	if again, err := st.Append(ctx, "s_1", named); !errors.As(err, &dup) || again.Event.Seq != first.Event.Seq {
		t.Fatalf("a named append twice: %+v %v", again, err)
	}
	full := Message("customer", "full", t2)
	full.Opts.MaxEvents = 4
	if _, err := st.Append(ctx, "s_1", full); !errors.Is(err, rooms.ErrRoomFull) {
		t.Fatalf("past the cap: %v", err)
	}
	rated := Message("agent", "fast", t2)
	rated.Opts.Rate = &rooms.Rate{Key: "agent:a_1", Every: time.Hour, Burst: 1}
	Must(t, errOf(st.Append(ctx, "s_1", rated)))
	var rl *rooms.RateLimitError
	if _, err := st.Append(ctx, "s_1", rated); !errors.As(err, &rl) {
		t.Fatalf("past the rate: %v", err)
	}
	// A resend of a logged message gets its seq whatever would refuse a
	// new one now (its reply was lost; the message is there): a full
	// room, a spent rate, an end.
	resend := named
	resend.Opts.MaxEvents, resend.Opts.Rate = 1, rated.Opts.Rate
	if again, err := st.Append(ctx, "s_1", resend); !errors.As(err, &dup) || again.Event.Seq != first.Event.Seq {
		t.Fatalf("a resend in a full room past its rate: %+v %v", again, err)
	}
	ended, err := st.Session(ctx, "s_1")
	Must(t, err)
	at := t2
	ended.State, ended.EndedAt, ended.Access = rooms.StateEnded, &at, &rooms.EndAccess{Mode: rooms.AccessNone}
	Commit(t, st, ended, nil, 0)
	if again, err := st.Append(ctx, "s_1", named); !errors.As(err, &dup) || again.Event.Seq != first.Event.Seq {
		t.Fatalf("a resend after the end: %+v %v", again, err)
	}
	if _, err := st.Append(ctx, "s_1", Message("customer", "new", t2)); !errors.Is(err, rooms.ErrSessionEnded) {
		t.Fatalf("a new message after the end: %v", err)
	}
	evs, err = st.Events(ctx, "s_1", 0, 0)
	Must(t, err)
	if last := evs[len(evs)-1]; len(evs) != 5 || last.Type != rooms.EventMessage || last.Text != "fast" {
		t.Fatalf("the log after the refusals and resends: %d events, the last %+v", len(evs), last)
	}
	// A refusal or a resend takes no number: the seqs run on without a hole.
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d after the refusals and resends", i, e.Seq)
		}
	}
	// The history index follows the messages (on Redis within a second
	// or two, by the coalescer).
	deadline := time.Now().Add(5 * time.Second)
	for {
		page, err := st.History(ctx, rooms.IndexAll, rooms.Cursor{}, time.Time{}, 10)
		Must(t, err)
		if len(page) == 1 && page[0].Score == t2.UnixMilli() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history index %+v, want the last message's time %d", page, t2.UnixMilli())
		}
		time.Sleep(20 * time.Millisecond) // polling the coalescer: it runs on its own clock
	}
}

func errOf(_ rooms.Appended, err error) error { return err }

// The write gate: who may post in each state, on both stores alike.
func contractAppendGate(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	ended := func(mode string, d time.Duration) func(*rooms.Session) {
		return func(s *rooms.Session) {
			at := t0
			s.State, s.EndedAt, s.Access = rooms.StateEnded, &at, &rooms.EndAccess{Mode: mode, Duration: rooms.Duration(d)}
		}
	}
	cases := []struct {
		name     string
		set      func(*rooms.Session)
		at       time.Duration
		customer error
		agent    error
	}{
		{"active", func(*rooms.Session) {}, 0, nil, nil},
		{"planned", func(s *rooms.Session) { s.State = rooms.StatePlanned }, 0, rooms.ErrForbidden, nil},
		{"ended none", ended(rooms.AccessNone, 0), 0, rooms.ErrSessionEnded, rooms.ErrReadOnly},
		{"ended full", ended(rooms.AccessFull, 0), 0, nil, rooms.ErrReadOnly},
		{"full_for within", ended(rooms.AccessFullFor, time.Hour), time.Minute, nil, rooms.ErrReadOnly},
		{"full_for past", ended(rooms.AccessFullFor, time.Hour), 2 * time.Hour, rooms.ErrSessionEnded, rooms.ErrReadOnly},
		{"limited_for within", ended(rooms.AccessLimitedFor, time.Hour), time.Minute, rooms.ErrReadOnly, rooms.ErrReadOnly},
		{"limited_for past", ended(rooms.AccessLimitedFor, time.Hour), 2 * time.Hour, rooms.ErrSessionEnded, rooms.ErrReadOnly},
	}
	for i, c := range cases {
		id := fmt.Sprint("s_g", i)
		s := NewSession(id, "a_1", "t_1", t0)
		c.set(s)
		Commit(t, st, s, nil, 0)
		for role, want := range map[string]error{"customer": c.customer, "agent": c.agent} {
			_, err := st.Append(ctx, id, Message(role, "x", t0.Add(c.at)))
			if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
				t.Errorf("%s, %s: %v, want %v", c.name, role, err, want)
			}
			if want == nil && rooms.WriteGate(s, role, t0.Add(c.at)) != nil || want != nil && !errors.Is(rooms.WriteGate(s, role, t0.Add(c.at)), want) {
				t.Errorf("%s, %s: the Go rule disagrees with the store", c.name, role)
			}
		}
	}
}

// Assets is the suite every AssetStore passes.
func Assets(t *testing.T, st rooms.AssetStore) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a1 := &rooms.Asset{ID: "f_1", SessionID: "s_1", TaskID: "k_1", Kind: rooms.AssetSigned, Name: "signed-offer.pdf", Type: rooms.TypePDF,
		Size: 10, SHA256: "ab", At: at.Add(time.Second), BlobKey: "a/secret-1",
		Audit: &rooms.SignatureAudit{Signer: "Cara", Method: "drawn", OriginalSHA256: "cd", SignedSHA256: "ab"}}
	a2 := &rooms.Asset{ID: "f_2", SessionID: "s_1", TaskID: "k_2", Kind: rooms.AssetUpload, Name: "id.jpg", Type: rooms.TypeJPEG, At: at, BlobKey: "a/secret-2"}
	other := &rooms.Asset{ID: "f_3", SessionID: "s_2", Kind: rooms.AssetUpload, At: at, BlobKey: "a/secret-3"}
	for _, a := range []*rooms.Asset{a1, a2, other} {
		Must(t, st.PutAsset(ctx, a))
	}
	got, err := st.Asset(ctx, "s_1", "f_1")
	Must(t, err)
	if got.BlobKey != "a/secret-1" || got.Audit == nil || got.Audit.Signer != "Cara" || !got.At.Equal(a1.At) {
		t.Fatalf("Asset = %+v", got)
	}
	if _, err := st.Asset(ctx, "s_2", "f_1"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("another session's asset: %v", err)
	}
	list, err := st.Assets(ctx, "s_1")
	Must(t, err)
	if len(list) != 2 || list[0].ID != "f_2" || list[1].ID != "f_1" {
		t.Fatalf("Assets not oldest first: %+v", list)
	}
	if list, _ := st.Assets(ctx, "s_9"); len(list) != 0 {
		t.Fatalf("a session without assets lists %d", len(list))
	}
	ids, err := st.AssetSessions(ctx, "", 1)
	Must(t, err)
	if len(ids) != 1 || ids[0] != "s_1" {
		t.Fatalf("first page %v", ids)
	}
	ids, err = st.AssetSessions(ctx, "s_1", 10)
	Must(t, err)
	if len(ids) != 1 || ids[0] != "s_2" {
		t.Fatalf("second page %v", ids)
	}
	Must(t, st.ForgetAssetSession(ctx, "s_1"))
	if ids, _ := st.AssetSessions(ctx, "", 10); len(ids) != 1 || ids[0] != "s_2" {
		t.Fatalf("after forgetting s_1: %v", ids)
	}
	Must(t, st.DeleteAsset(ctx, "s_1", "f_2"))
	if _, err := st.Asset(ctx, "s_1", "f_2"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("deleted asset: %v", err)
	}
	// A record marked deleted does not list its session again.
	now := at
	a1.DeletedAt = &now
	Must(t, st.PutAsset(ctx, a1))
	if ids, _ := st.AssetSessions(ctx, "", 10); len(ids) != 1 {
		t.Fatalf("a deleted record listed its session: %v", ids)
	}
}

// Rebaser is a store whose room logs can begin a new epoch.
type Rebaser interface {
	rooms.Store
	rooms.LogRebaser
}

// Rebase: a log ahead of which a caller delivered begins a new epoch
// once: the first caller's; numbers then go on from the log's end under
// it.
func Rebase(t *testing.T, st Rebaser) {
	ctx := context.Background()
	t0 := time.Now().UTC()
	s := NewSession("s_1", "a_1", "t_1", t0)
	Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage, Text: "1"}, {Type: rooms.EventMessage, Text: "2"}, {Type: rooms.EventMessage, Text: "3"}}, 0)
	_, epoch, err := st.LastSeq(ctx, "s_1")
	Must(t, err)
	if pos, err := st.RebaseLog(ctx, "s_1", epoch, 3); err != nil || pos != (rooms.LogPosition{Seq: 3, Epoch: epoch}) {
		t.Fatalf("a caller not ahead: %+v %v", pos, err)
	}
	pos, err := st.RebaseLog(ctx, "s_1", epoch, 5)
	Must(t, err)
	if pos.Seq != 3 || pos.Epoch == epoch || pos.Epoch == "" {
		t.Fatalf("a caller ahead: %+v (epoch was %q)", pos, epoch)
	}
	if other, err := st.RebaseLog(ctx, "s_1", epoch, 5); err != nil || other != pos {
		t.Fatalf("a second caller: %+v %v, want the first's %+v", other, err, pos)
	}
	evs, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventMessage, Text: "4"}}, rooms.CommitOptions{})
	Must(t, err)
	seq, now, err := st.LastSeq(ctx, "s_1")
	Must(t, err)
	if evs[0].Seq != 4 || seq != 4 || now != pos.Epoch {
		t.Fatalf("after: event %d, log %d %q, want 4 under %q", evs[0].Seq, seq, now, pos.Epoch)
	}
	if pos, err := st.RebaseLog(ctx, "s_none", "", 2); err != nil || pos.Epoch == "" || pos.Seq != 0 {
		t.Fatalf("a log gone whole: %+v %v", pos, err)
	}
}

// contractDigests: events keep the digest they were logged with, and a
// customer's message (whose name the store fills in) still matches it.
func contractDigests(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	s := NewSession("s_d", "a_1", "t_1", now)
	e := rooms.Event{Type: rooms.EventMessage, At: now, From: &rooms.Actor{Role: "agent", ID: "a_1"}, Text: "hello"}
	e.Digest = rooms.EventDigest(e)
	Commit(t, st, s, []rooms.Event{e}, 0)
	m := Message("customer", "hi", now)
	m.Event.Digest = rooms.EventDigest(m.Event)
	if _, err := st.Append(ctx, "s_d", m); err != nil {
		t.Fatal(err)
	}
	evs, err := st.Events(ctx, "s_d", 0, 0)
	Must(t, err)
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	for _, got := range evs {
		if got.Digest == "" || got.Digest != rooms.EventDigest(got) {
			t.Fatalf("event %d: digest %q, content %q", got.Seq, got.Digest, rooms.EventDigest(got))
		}
	}
}
