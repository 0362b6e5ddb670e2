package rooms_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/storetest"
	"github.com/rs/zerolog"
)

// sweepService is a service over st that keeps files 30 days, with its
// blob store and a fixed now.
func sweepService(t *testing.T, st rooms.Store) (*rooms.Service, blobs.Store, time.Time) {
	t.Helper()
	ctx := context.Background()
	bucket, err := blobs.Open(ctx, "mem://")
	storetest.Must(t, err)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	svc := rooms.NewService(st, nil, rooms.Config{Secret: []byte("0123456789abcdef"), Blobs: bucket, Now: func() time.Time { return now }}, zerolog.Nop())
	set := rooms.DefaultSettings()
	set.AssetRetentionDays = 30
	storetest.Must(t, st.PutSettings(ctx, set))
	return svc, bucket, now
}

// The sweep deletes the blobs of sessions ended past retention, keeps
// the others, and two sweeps at once (two nodes) agree.
func TestSweepAssets(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(nil)
	svc, bucket, now := sweepService(t, st)
	mk := func(id string, endedDaysAgo int) *rooms.Asset {
		s := storetest.NewSession(id, "a_1", "t_1", now.Add(-100*24*time.Hour))
		if endedDaysAgo >= 0 {
			ended := now.Add(-time.Duration(endedDaysAgo) * 24 * time.Hour)
			s.State, s.EndedAt = rooms.StateEnded, &ended
		}
		_, err := st.Commit(ctx, s, nil, rooms.CommitOptions{})
		storetest.Must(t, err)
		a := &rooms.Asset{SessionID: id, Kind: rooms.AssetUpload, Type: rooms.TypePNG}
		storetest.Must(t, svc.Keep(ctx, a, []byte("bytes of "+id)))
		return a
	}
	old, recent, open := mk("s_old", 31), mk("s_recent", 29), mk("s_open", -1)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Go(func() {
			n, err := svc.Files.SweepAssets(ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if counts[0]+counts[1] < 1 {
		t.Fatalf("nothing swept: %v", counts)
	}
	if _, err := bucket.Get(ctx, old.BlobKey); !errors.Is(err, blobs.ErrNotFound) {
		t.Fatalf("the old session's blob is still there: %v", err)
	}
	if _, _, err := svc.Open(ctx, "s_old", old.ID); !errors.Is(err, rooms.ErrAssetDeleted) {
		t.Fatalf("opening a swept asset: %v", err)
	}
	for _, a := range []*rooms.Asset{recent, open} {
		if _, _, err := svc.Read(ctx, a.SessionID, a.ID); err != nil {
			t.Fatalf("%s lost its file: %v", a.SessionID, err)
		}
	}
	if n, _ := svc.Files.SweepAssets(ctx); n != 0 {
		t.Fatalf("a second sweep deleted %d", n)
	}
}

// lateFileStore keeps a file for the session while a sweep is about to
// forget it, as a customer with full access after the end may upload
// meanwhile.
type lateFileStore struct {
	*memstore.Store
	late func(sessionID string)
}

func (l *lateFileStore) ForgetAssetSession(ctx context.Context, id string) error {
	if l.late != nil {
		late := l.late
		l.late = nil
		late(id)
	}
	return l.Store.ForgetAssetSession(ctx, id)
}

// A file kept while the sweep runs on its session is swept too: the
// sweep forgetting the session must not leave that file out of every
// later sweep.
func TestSweepTakesAFileKeptMeanwhile(t *testing.T) {
	ctx := context.Background()
	st := &lateFileStore{Store: memstore.New(nil)}
	svc, bucket, now := sweepService(t, st)
	s := storetest.NewSession("s_old", "a_1", "t_1", now.Add(-100*24*time.Hour))
	ended := now.Add(-40 * 24 * time.Hour)
	s.State, s.EndedAt = rooms.StateEnded, &ended
	_, err := st.Commit(ctx, s, nil, rooms.CommitOptions{})
	storetest.Must(t, err)
	storetest.Must(t, svc.Keep(ctx, &rooms.Asset{SessionID: "s_old", Kind: rooms.AssetUpload, Type: rooms.TypePNG}, []byte("first")))
	late := &rooms.Asset{SessionID: "s_old", Kind: rooms.AssetUpload, Type: rooms.TypePNG}
	st.late = func(string) { storetest.Must(t, svc.Keep(ctx, late, []byte("late"))) }
	if _, err := svc.Files.SweepAssets(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Files.SweepAssets(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bucket.Get(ctx, late.BlobKey); !errors.Is(err, blobs.ErrNotFound) {
		t.Fatalf("a file kept during the sweep escaped retention: %v", err)
	}
}
