package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
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

// assetRecord is how an asset is stored: the API fields plus its blob key.
type assetRecord struct {
	*Asset
	BlobKey string `json:"blob_key"`
}

func encodeAsset(a *Asset) ([]byte, error) {
	return json.Marshal(assetRecord{Asset: a, BlobKey: a.BlobKey})
}

func decodeAsset(b []byte) (*Asset, error) {
	r := assetRecord{Asset: &Asset{}}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	r.Asset.BlobKey = r.BlobKey
	return r.Asset, nil
}

func sortAssets(list []*Asset) {
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].At.Equal(list[j].At) {
			return list[i].At.Before(list[j].At)
		}
		return list[i].ID < list[j].ID
	})
}

// memAssets is the embedded AssetStore.
type memAssets struct {
	mu       sync.Mutex
	assets   map[string]map[string][]byte // session → asset id → record
	sessions map[string]bool
}

func (m *memAssets) init() {
	if m.assets == nil {
		m.assets, m.sessions = map[string]map[string][]byte{}, map[string]bool{}
	}
}

// PutAsset writes the record.
func (m *MemStore) PutAsset(_ context.Context, a *Asset) error {
	b, err := encodeAsset(a)
	if err != nil {
		return err
	}
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	m.am.init()
	if m.am.assets[a.SessionID] == nil {
		m.am.assets[a.SessionID] = map[string][]byte{}
	}
	m.am.assets[a.SessionID][a.ID] = b
	if a.DeletedAt == nil {
		m.am.sessions[a.SessionID] = true
	}
	return nil
}

// DeleteAsset removes a record.
func (m *MemStore) DeleteAsset(_ context.Context, sessionID, id string) error {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	delete(m.am.assets[sessionID], id)
	return nil
}

// Asset returns one record.
func (m *MemStore) Asset(_ context.Context, sessionID, id string) (*Asset, error) {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	b, ok := m.am.assets[sessionID][id]
	if !ok {
		return nil, ErrNotFound
	}
	return decodeAsset(b)
}

// Assets lists a session's records, oldest first.
func (m *MemStore) Assets(_ context.Context, sessionID string) ([]*Asset, error) {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	out := []*Asset{}
	for _, b := range m.am.assets[sessionID] {
		a, err := decodeAsset(b)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	sortAssets(out)
	return out, nil
}

// AssetSessions lists sessions that keep blobs, in id order.
func (m *MemStore) AssetSessions(_ context.Context, after string, limit int) ([]string, error) {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	var ids []string
	for id := range m.am.sessions {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// ForgetAssetSession drops a session from AssetSessions.
func (m *MemStore) ForgetAssetSession(_ context.Context, sessionID string) error {
	m.am.mu.Lock()
	defer m.am.mu.Unlock()
	delete(m.am.sessions, sessionID)
	return nil
}

func (r *RedisStore) assetSetKey() string { return r.key("asset-sessions") }

// PutAsset writes the record in the session's hash and, while its blob
// is kept, lists the session for the sweep. The two keys live in
// different Cluster slots, so this is a pipeline: a record whose
// listing failed is listed again by the next write of the session.
func (r *RedisStore) PutAsset(ctx context.Context, a *Asset) error {
	b, err := encodeAsset(a)
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
func (r *RedisStore) DeleteAsset(ctx context.Context, sessionID, id string) error {
	return unavailable(r.rdb.HDel(ctx, r.sessionKey(sessionID, "assets"), id).Err())
}

// Asset returns one record.
func (r *RedisStore) Asset(ctx context.Context, sessionID, id string) (*Asset, error) {
	b, err := r.rdb.HGet(ctx, r.sessionKey(sessionID, "assets"), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return decodeAsset(b)
}

// Assets lists a session's records, oldest first.
func (r *RedisStore) Assets(ctx context.Context, sessionID string) ([]*Asset, error) {
	vals, err := r.rdb.HVals(ctx, r.sessionKey(sessionID, "assets")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*Asset, 0, len(vals))
	for _, v := range vals {
		a, err := decodeAsset([]byte(v))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	sortAssets(out)
	return out, nil
}

// AssetSessions reads the sorted set in lexical order.
func (r *RedisStore) AssetSessions(ctx context.Context, after string, limit int) ([]string, error) {
	lo := "-"
	if after != "" {
		lo = "(" + after
	}
	ids, err := r.rdb.ZRangeByLex(ctx, r.assetSetKey(), &redis.ZRangeBy{Min: lo, Max: "+", Count: int64(limit)}).Result()
	return ids, unavailable(err)
}

// ForgetAssetSession drops a session from the sweep's set.
func (r *RedisStore) ForgetAssetSession(ctx context.Context, sessionID string) error {
	return unavailable(r.rdb.ZRem(ctx, r.assetSetKey(), sessionID).Err())
}

var (
	_ AssetStore = (*MemStore)(nil)
	_ AssetStore = (*RedisStore)(nil)
)

// assetTime keeps asset times to the millisecond, as JSON round trips
// them everywhere.
func assetTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
