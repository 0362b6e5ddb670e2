// Package redisstore keeps every role of rooms.Store, rooms.AssetStore
// and rooms.LogRebaser in Redis (one server, Sentinel or Cluster), with
// the Lua scripts (scripts/) that run the write gate and the rate limit
// inside Redis. The contract suite (rooms/storetest) runs against it and
// the memory store. The key layout is DESIGN.md §3.
package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

//go:embed scripts/commit.lua
var commitLua string

var commitScript = redis.NewScript(commitLua)

// Options tune the Redis backend.
type Options struct {
	// Sharded publishes with SPUBLISH, for Redis Cluster. Zero value: PUBLISH.
	Sharded bool
	// MinReplicas is how many replicas must hold a room commit (WAIT)
	// before it is acknowledged; one that fewer replicas hold within
	// ReplicaWait fails as unavailable (it may have happened: a retry
	// with the same name is logged once). Zero value: no wait.
	MinReplicas int
	// ReplicaWait bounds that wait. Zero value: 1 s; at most 2 s, for
	// WAIT blocks its connection and go-redis stops reading one after 3 s.
	ReplicaWait time.Duration
	// Log receives the store's own warnings. Zero value: none.
	Log zerolog.Logger
}

// Store keeps everything in Redis under one prefix; every key of a
// session shares the hash tag {s_ID}, so one Lua script can commit it.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	opts   Options
	log    zerolog.Logger

	repairMu  sync.Mutex
	repair    map[string]bool // sessions whose indexes wait for a repair
	repairing bool

	pipe    *pipeliner
	dirtyMu sync.Mutex
	dirty   map[string]*rooms.Session // messages' activity waiting for the indexes
}

var _ rooms.Store = (*Store)(nil)

// New keeps its keys under prefix (KeyPrefix when empty).
func New(rdb redis.UniversalClient, prefix string, opts Options) *Store {
	if prefix == "" {
		prefix = rooms.KeyPrefix
	}
	if opts.ReplicaWait <= 0 {
		opts.ReplicaWait = time.Second
	}
	opts.ReplicaWait = min(opts.ReplicaWait, 2*time.Second)
	return &Store{rdb: rdb, prefix: prefix, opts: opts, log: opts.Log,
		pipe: newPipeliner(rdb, opts.MinReplicas, opts.ReplicaWait)}
}

// Collector is the store's metrics: the sizes of its commit pipelines.
func (r *Store) Collector() prometheus.Collector { return r.pipe.sizes }

func (r *Store) key(parts ...string) string { return r.prefix + strings.Join(parts, ":") }

func (r *Store) sessionKey(id, what string) string { return r.prefix + "{" + id + "}:" + what }

// Channel is the pub/sub channel of a session's room.
func (r *Store) Channel(sessionID string) string { return r.sessionKey(sessionID, "room") }

// unavailable marks a Redis failure so the API answers 503.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", rooms.ErrUnavailable, err)
}

// Ping checks that Redis answers.
func (r *Store) Ping(ctx context.Context) error {
	return unavailable(r.rdb.Ping(ctx).Err())
}

// Commit runs commit.lua, then moves the session in the history indexes.
func (r *Store) Commit(ctx context.Context, s *rooms.Session, events []rooms.Event, opts rooms.CommitOptions) ([]rooms.Event, error) {
	expected := s.Internal.Version
	s.Internal.Version = expected + 1
	rec, err := rooms.EncodeSession(s)
	s.Internal.Version = expected
	if err != nil {
		return nil, err
	}
	rate, every, burst := r.sessionKey(s.ID, "rate"), int64(0), 0
	if opts.Rate != nil {
		rate, every, burst = r.sessionKey(s.ID, "rate:"+opts.Rate.Key), max(opts.Rate.Every.Milliseconds(), 1), opts.Rate.Burst
	}
	args := []any{expected, rec, rooms.NewEpoch(), r.Channel(s.ID), boolArg(r.opts.Sharded), opts.MaxEvents,
		opts.Once, every, burst, rooms.OnceKeep, rooms.OnceFor.Milliseconds()}
	args = append(args, gateArgs(s, opts)...)
	for _, e := range events {
		e.Seq = 0
		b, err := rooms.MarshalEvent(e)
		if err != nil {
			return nil, err
		}
		args = append(args, b)
	}
	keys := []string{r.sessionKey(s.ID, "session"), r.sessionKey(s.ID, "seq"), r.sessionKey(s.ID, "log"),
		r.sessionKey(s.ID, "meta"), r.sessionKey(s.ID, "once"), rate}
	got, err := r.pipe.run(ctx, commitScript, keys, args)
	if err != nil {
		return nil, scriptError(err)
	}
	res, ok := got.([]any)
	if !ok || len(res) != 2 {
		return nil, unavailable(fmt.Errorf("commit script answered %v", got))
	}
	last, _ := res[1].(int64)
	if res[0] == int64(1) {
		return nil, &rooms.DuplicateError{LastSeq: last}
	}
	s.Internal.Version = expected + 1
	out := make([]rooms.Event, len(events))
	for i, e := range events {
		e.Seq = last - int64(len(events)-1-i)
		out[i] = e
	}
	if err := r.index(ctx, s); err != nil {
		r.repairLater(s.ID, err)
	}
	return out, nil
}

func scriptError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "CONFLICT"):
		return rooms.ErrConflict
	case strings.Contains(msg, "ROOM_FULL"):
		return rooms.ErrRoomFull
	case strings.Contains(msg, "RATE_LIMITED"):
		ms, _ := strconv.ParseInt(strings.TrimSpace(msg[strings.Index(msg, "RATE_LIMITED")+len("RATE_LIMITED"):]), 10, 64)
		return &rooms.RateLimitError{RetryAfter: time.Duration(max(ms, 1)) * time.Millisecond}
	}
	return unavailable(err)
}

// repairLater queues a session whose indexes a commit could not update:
// the commit happened, so it must not report failure (a retry would log
// its events again). A loop re-indexes queued sessions from their
// records until the backend takes it.
func (r *Store) repairLater(id string, cause error) {
	r.repairMu.Lock()
	defer r.repairMu.Unlock()
	if r.repair == nil {
		r.repair = map[string]bool{}
	}
	if len(r.repair) < maxRepairs {
		r.repair[id] = true
	}
	if !r.repairing {
		r.repairing = true
		r.log.Warn().Err(cause).Str("session", id).Msg("history index not updated; repairing in the background")
		go r.repairLoop()
	}
}

// maxRepairs bounds the repair queue; sessions past it are indexed again
// by their next commit.
const maxRepairs = 10000

func (r *Store) repairLoop() {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		time.Sleep(wait) // a retry pause between repair rounds, not synchronisation
		r.repairMu.Lock()
		ids := make([]string, 0, len(r.repair))
		for id := range r.repair {
			ids = append(ids, id)
		}
		r.repairMu.Unlock()
		done := r.reindex(ids)
		r.repairMu.Lock()
		for _, id := range done {
			delete(r.repair, id)
		}
		if len(r.repair) == 0 {
			r.repairing = false
			r.repairMu.Unlock()
			return
		}
		r.repairMu.Unlock()
	}
}

// reindex indexes sessions from their records; it returns those done.
func (r *Store) reindex(ids []string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var done []string
	for _, id := range ids {
		s, err := r.Session(ctx, id)
		if errors.Is(err, rooms.ErrNotFound) {
			done = append(done, id)
			continue
		}
		if err == nil {
			err = r.index(ctx, s)
		}
		if err != nil {
			continue
		}
		done = append(done, id)
	}
	return done
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// index updates the history and idle indexes after a commit; they live in
// other slots than the session, and can be rebuilt from the records.
// Scores only move forward: the coalescer may have written a message's
// newer activity already.
func (r *Store) index(ctx context.Context, s *rooms.Session) error {
	pipe := r.rdb.Pipeline()
	score := float64(s.UpdatedAt.UnixMilli())
	for _, name := range rooms.SessionIndexes(s) {
		pipe.ZAddGT(ctx, r.key("idx", name), redis.Z{Score: score, Member: s.ID})
	}
	if s.State == rooms.StateActive {
		pipe.ZAddGT(ctx, r.key("idx", "idle"), redis.Z{Score: float64(s.Internal.LastAgentAt.UnixMilli()), Member: s.ID})
	} else {
		pipe.ZRem(ctx, r.key("idx", "idle"), s.ID)
	}
	_, err := pipe.Exec(ctx)
	return unavailable(err)
}

// Session returns one session.
func (r *Store) Session(ctx context.Context, id string) (*rooms.Session, error) {
	vals, err := r.rdb.HMGet(ctx, r.sessionKey(id, "session"), sessionFields...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return overlay(vals)
}

// SessionsByID loads many sessions in one pipeline (one key per slot, so
// it also works on Redis Cluster).
func (r *Store) SessionsByID(ctx context.Context, ids []string) ([]*rooms.Session, error) {
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, r.sessionKey(id, "session"), sessionFields...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(err)
	}
	out := make([]*rooms.Session, 0, len(ids))
	for _, c := range cmds {
		vals, err := c.Result()
		if err != nil {
			return nil, unavailable(err)
		}
		s, err := overlay(vals)
		if errors.Is(err, rooms.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Events reads the log after since; stream ids are "<seq>-0".
func (r *Store) Events(ctx context.Context, id string, since int64, limit int) ([]rooms.Event, error) {
	start := strconv.FormatInt(max(since, 0)+1, 10) + "-0"
	var msgs []redis.XMessage
	var err error
	if limit > 0 {
		msgs, err = r.rdb.XRangeN(ctx, r.sessionKey(id, "log"), start, "+", int64(limit)).Result()
	} else {
		msgs, err = r.rdb.XRange(ctx, r.sessionKey(id, "log"), start, "+").Result()
	}
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]rooms.Event, 0, len(msgs))
	for _, m := range msgs {
		var e rooms.Event
		s, _ := m.Values["e"].(string)
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			return nil, fmt.Errorf("room log %s entry %s: %w", id, m.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// LastSeq returns the log's last seq and epoch.
func (r *Store) LastSeq(ctx context.Context, id string) (int64, string, error) {
	pipe := r.rdb.Pipeline()
	seq := pipe.Get(ctx, r.sessionKey(id, "seq"))
	epoch := pipe.HGet(ctx, r.sessionKey(id, "meta"), "epoch")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, "", unavailable(err)
	}
	n, _ := seq.Int64()
	return n, epoch.Val(), nil
}

// LastSeqs reads many rooms' positions in one pipeline (no MULTI: the
// rooms live in different slots on Redis Cluster).
func (r *Store) LastSeqs(ctx context.Context, ids []string) (map[string]rooms.LogPosition, error) {
	pipe := r.rdb.Pipeline()
	seqs := make([]*redis.StringCmd, len(ids))
	epochs := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		seqs[i] = pipe.Get(ctx, r.sessionKey(id, "seq"))
		epochs[i] = pipe.HGet(ctx, r.sessionKey(id, "meta"), "epoch")
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, unavailable(err)
		}
	}
	out := make(map[string]rooms.LogPosition, len(ids))
	for i, id := range ids {
		n, _ := seqs[i].Int64()
		out[id] = rooms.LogPosition{Seq: n, Epoch: epochs[i].Val()}
	}
	return out, nil
}

// History pages through an index, newest first, after the cursor.
func (r *Store) History(ctx context.Context, index string, after rooms.Cursor, since time.Time, limit int) ([]rooms.IndexEntry, error) {
	maxScore := "+inf"
	if after.ID != "" {
		maxScore = strconv.FormatInt(after.Score, 10)
	}
	minScore := strconv.FormatInt(since.UnixMilli(), 10)
	out := make([]rooms.IndexEntry, 0, limit)
	for offset := int64(0); len(out) < limit; {
		batch := int64(limit - len(out) + 16)
		zs, err := r.rdb.ZRevRangeByScoreWithScores(ctx, r.key("idx", index), &redis.ZRangeBy{
			Max: maxScore, Min: minScore, Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, unavailable(err)
		}
		for _, z := range zs {
			e := rooms.IndexEntry{ID: z.Member.(string), Score: int64(z.Score)}
			if after.Admits(e) && len(out) < limit {
				out = append(out, e)
			}
		}
		if int64(len(zs)) < batch {
			break
		}
		offset += batch
	}
	return out, nil
}

// Idle lists active sessions whose last agent activity is before t.
func (r *Store) Idle(ctx context.Context, before time.Time, limit int) ([]string, error) {
	ids, err := r.rdb.ZRangeByScore(ctx, r.key("idx", "idle"), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: int64(limit)}).Result()
	return ids, unavailable(err)
}
