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
