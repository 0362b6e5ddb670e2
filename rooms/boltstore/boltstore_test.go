package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/notify/outboxtest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/boltstore"
	"github.com/cohub/cohub/rooms/storetest"
)

// open is a fresh store in the test's own directory, closed at its end.
func open(t testing.TB) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "cohub.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) rooms.Store { return open(t) })
}

func TestAssets(t *testing.T) { storetest.Assets(t, open(t)) }

func TestRebaseLog(t *testing.T) { storetest.Rebase(t, open(t)) }

func TestRewriteLog(t *testing.T) { storetest.Rewrite(t, open(t)) }

func TestOutbox(t *testing.T) {
	outboxtest.Run(t, func(max int) notify.Outbox {
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "cohub.db"), boltstore.Options{OutboxSize: max})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st.Outbox()
	})
}

// TestReopenKeepsEverything: what one open committed, the next reads:
// accounts, login tokens, counters, names taken, logs with their epoch,
// indexes, assets, the outbox and read horizons.
func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cohub.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	storetest.Must(t, err)
	now := time.Now().UTC().Truncate(time.Millisecond)
	storetest.Must(t, st.CreateAgent(ctx, &rooms.Agent{ID: "a_1", Email: "Ann@x.test", Role: rooms.RoleAgent}))
	storetest.Must(t, st.PutToken(ctx, "h1", rooms.LoginToken{AgentID: "a_1", Gen: 2}, time.Hour))
	_, err = st.Hit(ctx, "otp:s_1", time.Hour)
	storetest.Must(t, err)
	_, err = st.Once(ctx, "demo-seed")
	storetest.Must(t, err)
	s := storetest.NewSession("s_1", "a_1", "t_1", now)
	storetest.Commit(t, st, s, []rooms.Event{{Type: rooms.EventMessage, Text: "one"}}, 0)
	_, err = st.Append(ctx, "s_1", storetest.Message("agent", "two", now))
	storetest.Must(t, err)
	storetest.Must(t, st.PutAsset(ctx, &rooms.Asset{ID: "f_1", SessionID: "s_1", At: now, BlobKey: "a/k"}))
	storetest.Must(t, st.Outbox().Send(ctx, notify.Message{Channel: "email", To: "c@x.test", SessionID: "s_1"}))
	_, _, err = st.RaiseHorizon(ctx, "s_1", rooms.ReaderCustomer, 2)
	storetest.Must(t, err)
	_, epoch, err := st.LastSeq(ctx, "s_1")
	storetest.Must(t, err)
	storetest.Must(t, st.Close())

	st, err = boltstore.Open(path, boltstore.Options{})
	storetest.Must(t, err)
	defer st.Close()
	if a, err := st.AgentByEmail(ctx, "ann@x.test"); err != nil || a.ID != "a_1" {
		t.Fatalf("agent after reopen: %+v %v", a, err)
	}
	if tok, err := st.Token(ctx, "h1"); err != nil || tok.Gen != 2 {
		t.Fatalf("token after reopen: %+v %v", tok, err)
	}
	if n, err := st.Count(ctx, "otp:s_1"); err != nil || n != 1 {
		t.Fatalf("counter after reopen: %d %v", n, err)
	}
	if first, err := st.Once(ctx, "demo-seed"); err != nil || first {
		t.Fatalf("Once after reopen: %v %v", first, err)
	}
	if seq, ep, err := st.LastSeq(ctx, "s_1"); err != nil || seq != 2 || ep != epoch {
		t.Fatalf("log after reopen: %d %q %v, want 2 %q", seq, ep, err, epoch)
	}
	if h, err := st.History(ctx, rooms.IndexAgent("a_1"), rooms.Cursor{}, time.Time{}, 10); err != nil || len(h) != 1 {
		t.Fatalf("history after reopen: %+v %v", h, err)
	}
	if a, err := st.Asset(ctx, "s_1", "f_1"); err != nil || a.BlobKey != "a/k" {
		t.Fatalf("asset after reopen: %+v %v", a, err)
	}
	if m, err := st.Outbox().List(ctx, 10); err != nil || len(m) != 1 {
		t.Fatalf("outbox after reopen: %+v %v", m, err)
	}
	if h, err := st.Horizons(ctx, []string{"s_1"}); err != nil || h["s_1"][rooms.ReaderCustomer] != 2 {
		t.Fatalf("read horizons after reopen: %v %v", h, err)
	}
}

// TestOneProcess: a second open of a held file is refused with ErrLocked
// (bbolt's flock; within one process the lock is per open file).
func TestOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cohub.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	storetest.Must(t, err)
	defer st.Close()
	if _, err := boltstore.Open(path, boltstore.Options{LockWait: 10 * time.Millisecond}); !errors.Is(err, boltstore.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

// TestNamesAreTrimmed: a room keeps the names of at least its last
// OnceKeep named sends, not all of them for ever.
func TestNamesAreTrimmed(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	now := time.Now().UTC()
	storetest.Commit(t, st, storetest.NewSession("s_1", "a_1", "t_1", now), nil, 0)
	named := func(i int) rooms.MessageAppend {
		m := storetest.Message("agent", fmt.Sprint("m", i), now)
		m.Opts.Once = fmt.Sprint("agent:", i)
		return m
	}
	total := rooms.OnceKeep + 100
	for i := range total {
		_, err := st.Append(ctx, "s_1", named(i))
		storetest.Must(t, err)
	}
	var dup *rooms.DuplicateError
	if _, err := st.Append(ctx, "s_1", named(total-rooms.OnceKeep)); !errors.As(err, &dup) {
		t.Fatalf("a name among the last %d: %v, want a duplicate", rooms.OnceKeep, err)
	}
	if _, err := st.Append(ctx, "s_1", named(0)); err != nil {
		t.Fatalf("the first name, long trimmed: %v, want it logged anew", err)
	}
}
