package rooms

import (
	"context"
	"time"
)

// AssetStore keeps the metadata of a session's assets (their bytes are
// in the blob store) beside the session: Redis keeps them under the
// session's hash tag. It also lists the sessions whose blobs are still
// kept, for the retention sweep. Memory and Redis implement it;
// assetContract tests both.
type AssetStore interface {
	// PutAsset writes an asset's record (a new one, or one whose blob
	// the sweep deleted).
	PutAsset(ctx context.Context, a *Asset) error
	// DeleteAsset removes a record (of a change that did not happen).
	DeleteAsset(ctx context.Context, sessionID, id string) error
	// Asset returns one asset of a session; ErrNotFound when it has none
	// of that id.
	Asset(ctx context.Context, sessionID, id string) (*Asset, error)
	// Assets lists a session's assets, oldest first.
	Assets(ctx context.Context, sessionID string) ([]*Asset, error)
	// AssetSessions lists, in id order, up to limit sessions after the
	// id after whose assets still have blobs.
	AssetSessions(ctx context.Context, after string, limit int) ([]string, error)
	// ForgetAssetSession drops a session from AssetSessions: its blobs
	// are gone.
	ForgetAssetSession(ctx context.Context, sessionID string) error
}

// assetTime keeps asset times to the millisecond, as JSON round trips
// them everywhere.
func assetTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
