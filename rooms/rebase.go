package rooms

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// LogRebaser begins a new epoch of a room log that went backwards: a
// node delivered events up to seen under epoch, and the log now ends
// before seen (a Redis failover promoted a replica that lacked the last
// writes). The next commits would reuse numbers clients already hold for
// other events; under a new epoch, clients start over (recovered:false)
// instead. Nodes may race to it: the epoch passed is the one the caller
// knows, so the first caller's new epoch is the one every node adopts.
type LogRebaser interface {
	RebaseLog(ctx context.Context, id, epoch string, seen int64) (LogPosition, error)
}

var (
	_ LogRebaser = (*RedisStore)(nil)
	_ LogRebaser = (*MemStore)(nil)
)

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
func (r *RedisStore) RebaseLog(ctx context.Context, id, epoch string, seen int64) (LogPosition, error) {
	keys := []string{r.sessionKey(id, "seq"), r.sessionKey(id, "meta")}
	res, err := rebaseScript.Run(ctx, r.rdb, keys, epoch, seen, newEpoch()).Slice()
	if err != nil {
		return LogPosition{}, unavailable(err)
	}
	if len(res) != 2 {
		return LogPosition{}, unavailable(fmt.Errorf("rebase script answered %v", res))
	}
	seq, _ := res[0].(int64)
	return LogPosition{Seq: seq, Epoch: str(res[1])}, nil
}

// RebaseLog does what the Redis store's does; a memory log never goes
// backwards, so this only begins an epoch for a caller ahead of it.
func (m *MemStore) RebaseLog(_ context.Context, id, epoch string, seen int64) (LogPosition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	log := m.logs[id]
	cur := ""
	if log != nil {
		cur = log.epoch
	}
	seq := int64(0)
	if log != nil {
		seq = int64(len(log.events))
	}
	if cur != epoch || seq >= seen {
		return LogPosition{Seq: seq, Epoch: cur}, nil
	}
	if log == nil {
		log = &memLog{}
		m.logs[id] = log
	}
	log.epoch = newEpoch()
	return LogPosition{Seq: seq, Epoch: log.epoch}, nil
}
