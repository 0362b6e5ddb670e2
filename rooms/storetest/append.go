package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

// The chat message's path (Append): the suites of messages logged from
// the session's small fields, and of the write gate.

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
