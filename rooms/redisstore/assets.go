package redisstore

import (
	"context"
	"errors"

	"github.com/cohub/cohub/rooms"
	"github.com/redis/go-redis/v9"
)

func (r *Store) assetSetKey() string { return r.key("asset-sessions") }

// PutAsset writes the record in the session's hash and, while its blob
// is kept, lists the session for the sweep. The two keys live in
// different Cluster slots, so this is a pipeline: a record whose
// listing failed is listed again by the next write of the session.
func (r *Store) PutAsset(ctx context.Context, a *rooms.Asset) error {
	b, err := rooms.EncodeAsset(a)
	if err != nil {
		return err
	}
	pipe := r.rdb.Pipeline()
	pipe.HSet(ctx, r.sessionKey(a.SessionID, "assets"), a.ID, b)
	if a.DeletedAt == nil {
		pipe.ZAdd(ctx, r.assetSetKey(), redis.Z{Score: 0, Member: a.SessionID})
	}
	_, err = pipe.Exec(ctx)
	return unavailable(err)
}

// DeleteAsset removes a record.
func (r *Store) DeleteAsset(ctx context.Context, sessionID, id string) error {
	return unavailable(r.rdb.HDel(ctx, r.sessionKey(sessionID, "assets"), id).Err())
}

// Asset returns one record.
func (r *Store) Asset(ctx context.Context, sessionID, id string) (*rooms.Asset, error) {
	b, err := r.rdb.HGet(ctx, r.sessionKey(sessionID, "assets"), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, rooms.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return rooms.DecodeAsset(b)
}

// Assets lists a session's records, oldest first.
func (r *Store) Assets(ctx context.Context, sessionID string) ([]*rooms.Asset, error) {
	vals, err := r.rdb.HVals(ctx, r.sessionKey(sessionID, "assets")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*rooms.Asset, 0, len(vals))
	for _, v := range vals {
		a, err := rooms.DecodeAsset([]byte(v))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	rooms.SortAssets(out)
	return out, nil
}

// AssetSessions reads the sorted set in lexical order.
func (r *Store) AssetSessions(ctx context.Context, after string, limit int) ([]string, error) {
	lo := "-"
	if after != "" {
		lo = "(" + after
	}
	ids, err := r.rdb.ZRangeByLex(ctx, r.assetSetKey(), &redis.ZRangeBy{Min: lo, Max: "+", Count: int64(limit)}).Result()
	return ids, unavailable(err)
}

// ForgetAssetSession drops a session from the sweep's set.
func (r *Store) ForgetAssetSession(ctx context.Context, sessionID string) error {
	return unavailable(r.rdb.ZRem(ctx, r.assetSetKey(), sessionID).Err())
}

var _ rooms.AssetStore = (*Store)(nil)
