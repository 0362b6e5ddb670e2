package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SweepAssets deletes the blobs of sessions ended more than the org's
// asset_retention_days ago, and returns how many it deleted. Running it
// on several nodes at once is safe: deleting a blob twice is not an
// error, and a record already marked deleted is left alone.
func (s *FileService) SweepAssets(ctx context.Context) (int, error) {
	as, err := s.assetStore()
	if err != nil {
		return 0, err
	}
	set, err := s.store.Settings(ctx)
	if err != nil || set.AssetRetentionDays <= 0 {
		return 0, err
	}
	cutoff := s.now().Add(-time.Duration(set.AssetRetentionDays) * 24 * time.Hour)
	deleted, after := 0, ""
	for {
		ids, err := as.AssetSessions(ctx, after, 100)
		if err != nil || len(ids) == 0 {
			return deleted, err
		}
		after = ids[len(ids)-1]
		for _, id := range ids {
			n, err := s.sweepSession(ctx, as, id, cutoff)
			deleted += n
			if err != nil {
				return deleted, err
			}
		}
	}
}

func (s *FileService) sweepSession(ctx context.Context, as AssetStore, id string, cutoff time.Time) (int, error) {
	sess, err := s.store.Session(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return 0, as.ForgetAssetSession(ctx, id)
	}
	if err != nil {
		return 0, err
	}
	if sess.State != StateEnded || sess.EndedAt == nil || !sess.EndedAt.Before(cutoff) {
		return 0, nil
	}
	// A file kept while this runs (a customer with full access after the
	// end may still upload) would be left out of every later sweep once
	// the session is forgotten: after forgetting, look again, and sweep
	// until a look finds nothing left.
	n, forgotten := 0, false
	for {
		m, err := s.sweepBlobs(ctx, as, id)
		n += m
		if err != nil || (m == 0 && forgotten) {
			return n, err
		}
		if err := as.ForgetAssetSession(ctx, id); err != nil {
			return n, err
		}
		forgotten = true
	}
}

// sweepBlobs deletes the blobs of a session's assets not yet deleted
// and marks their records so.
func (s *FileService) sweepBlobs(ctx context.Context, as AssetStore, id string) (int, error) {
	list, err := as.Assets(ctx, id)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list {
		if a.DeletedAt != nil {
			continue
		}
		if err := s.cfg.Blobs.Delete(ctx, a.BlobKey); err != nil {
			return n, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		now := s.now()
		a.DeletedAt = &now
		if err := as.PutAsset(ctx, a); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RunAssetSweep sweeps every interval until ctx ends. Of many nodes,
// the first to count the interval's hit sweeps; the others skip it.
func (s *FileService) RunAssetSweep(ctx context.Context, every time.Duration) {
	s.tick(ctx, every, func() {
		if n, err := s.store.Hit(ctx, "asset-sweep", every/2); err != nil || n > 1 {
			return
		}
		if n, err := s.SweepAssets(ctx); err != nil {
			s.log.Warn().Err(err).Int("deleted", n).Msg("asset sweep stopped early")
		} else if n > 0 {
			s.log.Info().Int("deleted", n).Msg("asset sweep deleted blobs past retention")
		}
	})
}
