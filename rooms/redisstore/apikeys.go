package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/rooms"
)

// API keys: cohub:apikeys (hash: id → the key's JSON, with its hash),
// cohub:apikey:{hash} (string: id) to find one, and cohub:apikeys:used
// (hash: id → last use, unix ms), written on each use without touching
// the record. Each key stands in its own slot on Redis Cluster: the
// writes are pipelined, not one transaction; a reader between them
// finds no key, never half of one.

// PutAPIKey stores a new key.
func (r *Store) PutAPIKey(ctx context.Context, k rooms.APIKey) error {
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.key("apikeys"), k.ID, b)
		p.Set(ctx, r.key("apikey", k.Hash), k.ID, 0)
		return nil
	})
	return unavailable(err)
}

// APIKeyByHash finds a key by its hash.
func (r *Store) APIKeyByHash(ctx context.Context, hash string) (rooms.APIKey, error) {
	id, err := r.rdb.Get(ctx, r.key("apikey", hash)).Result()
	if errors.Is(err, redis.Nil) {
		return rooms.APIKey{}, rooms.ErrNotFound
	}
	if err != nil {
		return rooms.APIKey{}, unavailable(err)
	}
	b, err := r.rdb.HGet(ctx, r.key("apikeys"), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return rooms.APIKey{}, rooms.ErrNotFound
	}
	if err != nil {
		return rooms.APIKey{}, unavailable(err)
	}
	var k rooms.APIKey
	return k, json.Unmarshal(b, &k)
}

// ListAPIKeys returns every key with its last use.
func (r *Store) ListAPIKeys(ctx context.Context) ([]rooms.APIKey, error) {
	all, err := r.rdb.HGetAll(ctx, r.key("apikeys")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	used, err := r.rdb.HGetAll(ctx, r.key("apikeys:used")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]rooms.APIKey, 0, len(all))
	for id, v := range all {
		var k rooms.APIKey
		if err := json.Unmarshal([]byte(v), &k); err != nil {
			return nil, err
		}
		if ms, err := strconv.ParseInt(used[id], 10, 64); err == nil {
			at := time.UnixMilli(ms).UTC()
			k.LastUsedAt = &at
		}
		out = append(out, k)
	}
	return out, nil
}

// DeleteAPIKey forgets a key and its hash.
func (r *Store) DeleteAPIKey(ctx context.Context, id string) error {
	b, err := r.rdb.HGet(ctx, r.key("apikeys"), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return rooms.ErrNotFound
	}
	if err != nil {
		return unavailable(err)
	}
	var k rooms.APIKey
	if err := json.Unmarshal(b, &k); err != nil {
		return err
	}
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.key("apikey", k.Hash))
		p.HDel(ctx, r.key("apikeys"), id)
		p.HDel(ctx, r.key("apikeys:used"), id)
		return nil
	})
	return unavailable(err)
}

// TouchAPIKey records a use.
func (r *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return unavailable(r.rdb.HSet(ctx, r.key("apikeys:used"), id, at.UnixMilli()).Err())
}
