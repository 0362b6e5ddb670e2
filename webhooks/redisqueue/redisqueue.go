// Package redisqueue keeps webhook endpoints and deliveries in Redis,
// shared by every node: the queue survives any node's restart, and a
// claim (a Lua script) gives each attempt to one node.
//
// Keys, all under one hash tag so a Cluster keeps them in one slot (the
// scripts touch several):
//
//	{prefix}{wh}:endpoints     hash   endpoint id → endpoint JSON
//	{prefix}{wh}:due           zset   endpoint id by when its head delivery is due (ms)
//	{prefix}{wh}:q:{endpoint}  zset   pending delivery ids by event time (ms)
//	{prefix}{wh}:log:{endpoint} zset  delivery ids by event time (the last 1,000 finished, and every pending)
//	{prefix}{wh}:d:{delivery}  hash   json, next (ms), claim (the claiming token), lease (its end, ms)
package redisqueue

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

// Store is the Redis engine.
type Store struct {
	rdb  redis.UniversalClient
	base string
}

// New keeps webhooks in rdb under prefix.
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, base: prefix + "{wh}:"}
}

var _ webhooks.Store = (*Store)(nil)

func (s *Store) key(parts ...string) string {
	k := s.base
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

func unavailable(err error) error {
	if err == nil || errors.Is(err, rooms.ErrNotFound) {
		return err
	}
	return fmt.Errorf("%w: %v", rooms.ErrUnavailable, err)
}

// SaveEndpoint implements webhooks.Endpoints.
func (s *Store) SaveEndpoint(ctx context.Context, e *webhooks.Endpoint) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return unavailable(s.rdb.HSet(ctx, s.key("endpoints"), e.ID, b).Err())
}

// Endpoint implements webhooks.Endpoints.
func (s *Store) Endpoint(ctx context.Context, id string) (*webhooks.Endpoint, error) {
	b, err := s.rdb.HGet(ctx, s.key("endpoints"), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, rooms.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	var e webhooks.Endpoint
	return &e, json.Unmarshal(b, &e)
}

// Endpoints implements webhooks.Endpoints.
func (s *Store) Endpoints(ctx context.Context) ([]webhooks.Endpoint, error) {
	all, err := s.rdb.HGetAll(ctx, s.key("endpoints")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]webhooks.Endpoint, 0, len(all))
	for _, v := range all {
		var e webhooks.Endpoint
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sortEndpoints(out)
	return out, nil
}

var deleteScript = redis.NewScript(`
if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return 0 end
local lg = ARGV[1]..'log:'..ARGV[2]
for _, id in ipairs(redis.call('ZRANGE', lg, 0, -1)) do redis.call('DEL', ARGV[1]..'d:'..id) end
redis.call('DEL', lg, ARGV[1]..'q:'..ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`)

// DeleteEndpoint implements webhooks.Endpoints.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	n, err := deleteScript.Run(ctx, s.rdb, []string{s.key("endpoints"), s.key("due")}, s.base, id).Int()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return rooms.ErrNotFound
	}
	return nil
}

// enqueueScript adds deliveries, five arguments each; a new head makes
// its endpoint due; the log keeps its last ARGV[2] finished deliveries
// (looking at 16 of its oldest at most: while an endpoint is down its
// log holds every pending delivery, and an enqueue must not scan them).
var enqueueScript = redis.NewScript(`
local base, max = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 5 do
  local id, ep, js, nxt, ord = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  local q, lg = base..'q:'..ep, base..'log:'..ep
  redis.call('HSET', base..'d:'..id, 'json', js, 'next', nxt, 'claim', '')
  redis.call('ZADD', q, ord, id)
  redis.call('ZADD', lg, ord, id)
  if redis.call('ZRANGE', q, 0, 0)[1] == id then redis.call('ZADD', KEYS[1], nxt, ep) end
  local over = math.min(redis.call('ZCARD', lg) - max, 16)
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', lg, 0, over - 1)) do
      if not redis.call('ZSCORE', q, old) then
        redis.call('DEL', base..'d:'..old)
        redis.call('ZREM', lg, old)
      end
    end
  end
end
return 1`)

func (s *Store) args(d webhooks.Delivery) ([]any, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return []any{d.ID, d.EndpointID, b, d.NextAttemptAt.UnixMilli(), d.Order()}, nil
}

// Enqueue implements webhooks.Queue.
func (s *Store) Enqueue(ctx context.Context, ds []webhooks.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	argv := []any{s.base, webhooks.LogLength}
	for _, d := range ds {
		a, err := s.args(d)
		if err != nil {
			return err
		}
		argv = append(argv, a...)
	}
	return unavailable(enqueueScript.Run(ctx, s.rdb, []string{s.key("due")}, argv...).Err())
}

// claimScript takes the heads of the due endpoints and moves each
// endpoint's due time to the lease's end.
var claimScript = redis.NewScript(`
local out = {}
for _, ep in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))) do
  local head = redis.call('ZRANGE', ARGV[1]..'q:'..ep, 0, 0)[1]
  if head then
    local d = ARGV[1]..'d:'..head
    redis.call('ZADD', KEYS[1], ARGV[3], ep)
    redis.call('HSET', d, 'claim', ARGV[5], 'lease', ARGV[3])
    table.insert(out, redis.call('HGET', d, 'json'))
  else
    redis.call('ZREM', KEYS[1], ep)
  end
end
return out`)

// Claim implements webhooks.Queue.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]webhooks.Claim, error) {
	token := rand.Text()
	res, err := claimScript.Run(ctx, s.rdb, []string{s.key("due")}, s.base, now.UnixMilli(),
		now.Add(lease).UnixMilli(), max, token).StringSlice()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]webhooks.Claim, 0, len(res))
	for _, js := range res {
		var d webhooks.Delivery
		if err := json.Unmarshal([]byte(js), &d); err != nil {
			return nil, err
		}
		out = append(out, webhooks.Claim{Delivery: d, Token: token})
	}
	return out, nil
}

// finishScript records an attempt if the claim still holds; a finished
// delivery leaves the queue, and the endpoint is due when its head is:
// at its next attempt, and not before the lease of a claim on it ends (a
// retry put ahead of a delivery in flight must not hand it out again).
var finishScript = redis.NewScript(`
local d = ARGV[1]..'d:'..ARGV[2]
if ARGV[4] == '' or redis.call('HGET', d, 'claim') ~= ARGV[4] then return 0 end
redis.call('HSET', d, 'json', ARGV[5], 'claim', '', 'lease', 0, 'next', ARGV[7])
local q = ARGV[1]..'q:'..ARGV[3]
if ARGV[6] ~= 'pending' then redis.call('ZREM', q, ARGV[2]) end
local head = redis.call('ZRANGE', q, 0, 0)[1]
if head then
  local h = redis.call('HMGET', ARGV[1]..'d:'..head, 'next', 'claim', 'lease')
  local due = tonumber(h[1])
  if h[2] and h[2] ~= '' and tonumber(h[3] or 0) > due then due = tonumber(h[3]) end
  redis.call('ZADD', KEYS[1], due, ARGV[3])
else
  redis.call('ZREM', KEYS[1], ARGV[3])
end
return 1`)

// Finish implements webhooks.Queue.
func (s *Store) Finish(ctx context.Context, token string, d webhooks.Delivery) (bool, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	next := int64(0)
	if d.NextAttemptAt != nil {
		next = d.NextAttemptAt.UnixMilli()
	}
	n, err := finishScript.Run(ctx, s.rdb, []string{s.key("due")}, s.base, d.ID, d.EndpointID, token, b,
		d.Status, next).Int()
	return n == 1, unavailable(err)
}

// requeueScript puts a delivery back in its endpoint's queue.
var requeueScript = redis.NewScript(`
local base, id, ep = ARGV[1], ARGV[2], ARGV[3]
local d = base..'d:'..id
if redis.call('EXISTS', d) == 0 then return 0 end
redis.call('HSET', d, 'json', ARGV[4], 'next', ARGV[5], 'claim', '', 'lease', 0)
local q = base..'q:'..ep
redis.call('ZADD', q, ARGV[6], id)
if redis.call('ZRANGE', q, 0, 0)[1] == id then redis.call('ZADD', KEYS[1], ARGV[5], ep) end
return 1`)

// Requeue implements webhooks.Queue.
func (s *Store) Requeue(ctx context.Context, d webhooks.Delivery) error {
	a, err := s.args(d)
	if err != nil {
		return err
	}
	n, err := requeueScript.Run(ctx, s.rdb, []string{s.key("due")}, s.base, a[0], a[1], a[2], a[3], a[4]).Int()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return rooms.ErrNotFound
	}
	return nil
}

// Delivery implements webhooks.Queue.
func (s *Store) Delivery(ctx context.Context, endpointID, id string) (*webhooks.Delivery, error) {
	js, err := s.rdb.HGet(ctx, s.key("d", id), "json").Result()
	if errors.Is(err, redis.Nil) {
		return nil, rooms.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	var d webhooks.Delivery
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		return nil, err
	}
	if d.EndpointID != endpointID {
		return nil, rooms.ErrNotFound
	}
	return &d, nil
}

// Deliveries implements webhooks.Queue.
func (s *Store) Deliveries(ctx context.Context, endpointID string, limit int) ([]webhooks.Delivery, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.key("log", endpointID), 0, int64(limit-1)).Result()
	if err != nil || len(ids) == 0 {
		return []webhooks.Delivery{}, unavailable(err)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGet(ctx, s.key("d", id), "json")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(err)
	}
	out := make([]webhooks.Delivery, 0, len(ids))
	for _, c := range cmds {
		var d webhooks.Delivery
		if js, err := c.Result(); err == nil && json.Unmarshal([]byte(js), &d) == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// sortEndpoints puts endpoints oldest first: ids are ULIDs, whose
// order is their creation's.
func sortEndpoints(es []webhooks.Endpoint) {
	slices.SortFunc(es, func(a, b webhooks.Endpoint) int { return strings.Compare(a.ID, b.ID) })
}
