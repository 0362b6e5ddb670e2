package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cohub/cohub/rooms"
	"github.com/redis/go-redis/v9"
)

var _ rooms.LogRebaser = (*Store)(nil)

// rebaseScript: KEYS[1] seq, KEYS[2] meta; ARGV[1] the epoch the caller
// knows, ARGV[2] the seq it delivered, ARGV[3] the new epoch. Returns the
// log's {seq, epoch} after.
var rebaseScript = redis.NewScript(`
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
local epoch = redis.call('HGET', KEYS[2], 'epoch') or ''
if epoch == ARGV[1] and seq < tonumber(ARGV[2]) then
  epoch = ARGV[3]
  redis.call('HSET', KEYS[2], 'epoch', epoch)
end
return {seq, epoch}
`)

// RebaseLog begins a new epoch when the log is still at epoch and ends
// before seen; it returns the log's position either way.
func (r *Store) RebaseLog(ctx context.Context, id, epoch string, seen int64) (rooms.LogPosition, error) {
	keys := []string{r.sessionKey(id, "seq"), r.sessionKey(id, "meta")}
	res, err := rebaseScript.Run(ctx, r.rdb, keys, epoch, seen, rooms.NewEpoch()).Slice()
	if err != nil {
		return rooms.LogPosition{}, unavailable(err)
	}
	if len(res) != 2 {
		return rooms.LogPosition{}, unavailable(fmt.Errorf("rebase script answered %v", res))
	}
	seq, _ := res[0].(int64)
	return rooms.LogPosition{Seq: seq, Epoch: str(res[1])}, nil
}

var _ rooms.LogRewriter = (*Store)(nil)

// RewriteLog reads the log's stream whole and writes it again, with the
// events fn changed, in one transaction on the session's slot: entries
// keep their IDs (seq-0), and the seq counter is another key.
func (r *Store) RewriteLog(ctx context.Context, id string, fn func(rooms.Event) (rooms.Event, bool)) (int, error) {
	key := r.sessionKey(id, "log")
	msgs, err := r.rdb.XRange(ctx, key, "-", "+").Result()
	if err != nil {
		return 0, unavailable(err)
	}
	n := 0
	bodies := make([]string, len(msgs))
	for i, msg := range msgs {
		body, _ := msg.Values["e"].(string)
		bodies[i] = body
		var e rooms.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return 0, fmt.Errorf("room log %s entry %s: %w", id, msg.ID, err)
		}
		out, changed := fn(e)
		if !changed {
			continue
		}
		b, err := json.Marshal(out)
		if err != nil {
			return 0, err
		}
		bodies[i], n = string(b), n+1
	}
	if n == 0 {
		return 0, nil
	}
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		for i, msg := range msgs {
			p.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: msg.ID, Values: map[string]any{"e": bodies[i]}})
		}
		return nil
	})
	return n, unavailable(err)
}
