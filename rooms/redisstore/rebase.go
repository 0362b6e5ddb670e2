package redisstore

import (
	"context"
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
