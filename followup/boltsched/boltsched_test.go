package boltsched_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/followup/boltsched"
	"github.com/cohub/cohub/followup/schedtest"
	"github.com/cohub/cohub/rooms/boltstore"
)

// open opens the embedded store's file at path and the schedule in it,
// as the disk backend does.
func open(t *testing.T, path string) (*boltstore.Store, *boltsched.Schedule) {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := boltsched.New(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	return st, s
}

func TestContract(t *testing.T) {
	schedtest.Run(t, func(t *testing.T) followup.Schedule {
		st, s := open(t, filepath.Join(t.TempDir(), "cohub.db"))
		t.Cleanup(func() { _ = st.Close() })
		return s
	})
}

// TestWakeUpsSurviveARestart: what was due, and a claim's lease, are
// still there when the file is opened again.
func TestWakeUpsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cohub.db")
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	st, s := open(t, path)
	if err := s.Sooner(ctx, "held", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, now, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Sooner(ctx, "later", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	st, s = open(t, path)
	defer st.Close()
	if cs, _ := s.Claim(ctx, now.Add(time.Second), time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed %v within a lease taken before the restart", cs)
	}
	cs, err := s.Claim(ctx, now.Add(time.Hour), time.Minute, 10)
	if err != nil || len(cs) != 2 {
		t.Fatalf("after the restart claimed %+v (%v), want both sessions", cs, err)
	}
}
