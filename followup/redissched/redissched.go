// Package redissched keeps the follow-up schedule in Redis, shared by
// every node: a wake-up survives any node's restart, and a claim (a Lua
// script) gives each due session to one node for its lease.
//
// Keys, under one hash tag so a Cluster keeps them in one slot:
//
//	{prefix}{fu}:due    zset  session id by when it is next due (ms)
//	{prefix}{fu}:lease  hash  session id → the token of the claim holding it
//	{prefix}{fu}:asked  set   session ids Sooner asked for while claimed
package redissched

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/rooms"
)

// Schedule is the Redis engine.
type Schedule struct {
	rdb             redis.UniversalClient
	due, lease, ask string
}

var _ followup.Schedule = (*Schedule)(nil)

// New keeps the schedule in rdb under prefix.
func New(rdb redis.UniversalClient, prefix string) *Schedule {
	b := prefix + "{fu}:"
	return &Schedule{rdb: rdb, due: b + "due", lease: b + "lease", ask: b + "asked"}
}

// ZADD LT keeps an earlier time; a session claimed now is marked asked,
// so its claim's Finish does not drop a wake-up it may not have seen.
var sooner = redis.NewScript(`
redis.call('ZADD', KEYS[1], 'LT', ARGV[1], ARGV[2])
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then redis.call('SADD', KEYS[3], ARGV[2]) end
return 1`)

// Each due session, earliest first, is pushed to the lease's end and
// marked with the claim's token.
var claim = redis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
for i, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  redis.call('HSET', KEYS[2], id, ARGV[3 + i])
  redis.call('SREM', KEYS[3], id)
end
return ids`)

var finish = redis.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('SREM', KEYS[3], ARGV[1]) == 1 then
  if ARGV[3] ~= '0' then redis.call('ZADD', KEYS[1], 'LT', ARGV[3], ARGV[1]) end
  return 1
end
if ARGV[3] == '0' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1`)

func (s *Schedule) keys() []string { return []string{s.due, s.lease, s.ask} }

// Sooner implements followup.Schedule.
func (s *Schedule) Sooner(ctx context.Context, id string, at time.Time) error {
	return unavailable(sooner.Run(ctx, s.rdb, s.keys(), at.UnixMilli(), id).Err())
}

// Claim implements followup.Schedule.
func (s *Schedule) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]followup.Claim, error) {
	until := now.Add(lease).Truncate(time.Millisecond)
	tokens := make([]string, max)
	args := []any{now.UnixMilli(), until.UnixMilli(), max}
	for i := range tokens {
		tokens[i] = followup.NewToken()
		args = append(args, tokens[i])
	}
	ids, err := claim.Run(ctx, s.rdb, s.keys(), args...).StringSlice()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]followup.Claim, len(ids))
	for i, id := range ids {
		out[i] = followup.Claim{SessionID: id, Until: until, Token: tokens[i]}
	}
	return out, nil
}

// Finish implements followup.Schedule.
func (s *Schedule) Finish(ctx context.Context, c followup.Claim, next time.Time) error {
	n := int64(0)
	if !next.IsZero() {
		n = next.UnixMilli()
	}
	return unavailable(finish.Run(ctx, s.rdb, s.keys(), c.SessionID, c.Token, n).Err())
}

func unavailable(err error) error {
	if err == nil || err == redis.Nil {
		return nil
	}
	return fmt.Errorf("%w: %v", rooms.ErrUnavailable, err)
}
