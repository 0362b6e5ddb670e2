package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is presence shared by every node. Per room, under the room's
// hash tag: a zset of connection id → expiry (unix ms) and a hash of
// connection id → Conn. Per node: its liveness in one zset, and the
// rooms it has entries in, so a survivor can reap a dead node.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ Tracker = (*Redis)(nil)

// NewRedis keeps presence under prefix ("cohub:").
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{rdb: rdb, prefix: prefix}
}

// keep is how long keys outlive their newest entry, so rooms nobody
// watches any more vanish on their own.
const keep = time.Minute

func (r *Redis) zset(room string) string   { return r.prefix + "{" + room + "}:presence" }
func (r *Redis) info(room string) string   { return r.prefix + "{" + room + "}:presence:info" }
func (r *Redis) nodes() string             { return r.prefix + "presence:nodes" }
func (r *Redis) nodeRooms(n string) string { return r.prefix + "presence:node:" + n }

func wrap(err error) error {
	if err == nil || err == redis.Nil {
		return nil
	}
	return fmt.Errorf("presence: %w", err)
}

// Refresh upserts a node's connections in one pipeline (no MULTI: the
// rooms live in different slots on Redis Cluster).
func (r *Redis) Refresh(ctx context.Context, node string, conns []Conn, until time.Time) error {
	ms := until.UnixMilli()
	expire := max(time.Until(until), 0) + keep
	pipe := r.rdb.Pipeline()
	rooms := map[string]bool{}
	for _, c := range conns {
		info, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("presence: %w", err)
		}
		pipe.ZAdd(ctx, r.zset(c.Room), redis.Z{Score: float64(ms), Member: c.ID})
		pipe.HSet(ctx, r.info(c.Room), c.ID, info)
		if !rooms[c.Room] {
			rooms[c.Room] = true
			pipe.PExpire(ctx, r.zset(c.Room), expire)
			pipe.PExpire(ctx, r.info(c.Room), expire)
			pipe.SAdd(ctx, r.nodeRooms(node), c.Room)
		}
	}
	pipe.PExpire(ctx, r.nodeRooms(node), expire)
	pipe.ZAdd(ctx, r.nodes(), redis.Z{Score: float64(ms), Member: node})
	_, err := pipe.Exec(ctx)
	return wrap(err)
}

// Leave shortens tracked entries to at (ZADD XX never adds one back).
func (r *Redis) Leave(ctx context.Context, conns []Conn, at time.Time) error {
	if len(conns) == 0 {
		return nil
	}
	pipe := r.rdb.Pipeline()
	for _, c := range conns {
		pipe.ZAddXX(ctx, r.zset(c.Room), redis.Z{Score: float64(at.UnixMilli()), Member: c.ID})
	}
	_, err := pipe.Exec(ctx)
	return wrap(err)
}

// readRoom drops a room's expired entries and returns the live ones' info.
var readRoom = redis.NewScript(`
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #dead > 0 then
  redis.call('ZREM', KEYS[1], unpack(dead))
  redis.call('HDEL', KEYS[2], unpack(dead))
end
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
if #live == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(live))
`)

// Rooms reads many rooms in one pipeline.
func (r *Redis) Rooms(ctx context.Context, rooms []string, now time.Time) (map[string][]Conn, error) {
	out := make(map[string][]Conn, len(rooms))
	if len(rooms) == 0 {
		return out, nil
	}
	cmds, err := r.runEach(ctx, readRoom, rooms, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	for i, id := range rooms {
		vals, _ := cmds[i].Slice()
		out[id] = decodeConns(vals)
	}
	return out, nil
}

// runEach runs a room script once per room in one pipeline, loading the
// script first when Redis does not know it (a fresh or restarted server).
func (r *Redis) runEach(ctx context.Context, s *redis.Script, rooms []string, arg any) ([]*redis.Cmd, error) {
	for attempt := 0; ; attempt++ {
		pipe := r.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(rooms))
		for i, id := range rooms {
			cmds[i] = s.EvalSha(ctx, pipe, []string{r.zset(id), r.info(id)}, arg)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
			if err := r.load(ctx, s, rooms); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil && err != redis.Nil {
			return nil, wrap(err)
		}
		return cmds, nil
	}
}

// load loads a script where the rooms live (on a cluster, every shard
// node may need it; loading through a room key reaches its node).
func (r *Redis) load(ctx context.Context, s *redis.Script, rooms []string) error {
	if c, ok := r.rdb.(*redis.ClusterClient); ok {
		return wrap(c.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error {
			return s.Load(ctx, shard).Err()
		}))
	}
	return wrap(s.Load(ctx, r.rdb).Err())
}

func decodeConns(vals []any) []Conn {
	var out []Conn
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var c Conn
		if json.Unmarshal([]byte(str), &c) == nil {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// dropNode removes one node's entries from a room.
var dropNode = redis.NewScript(`
local all = redis.call('HGETALL', KEYS[2])
local gone = {}
for i = 1, #all, 2 do
  local ok, c = pcall(cjson.decode, all[i + 1])
  if ok and type(c) == 'table' and c.node == ARGV[1] then table.insert(gone, all[i]) end
end
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('HDEL', KEYS[2], unpack(gone))
end
return #gone
`)

// Reap removes the entries of nodes whose liveness ran out; ZREM of the
// node is the claim, so each dead node is reaped by one caller.
func (r *Redis) Reap(ctx context.Context, now time.Time) ([]string, error) {
	dead, err := r.rdb.ZRangeByScore(ctx, r.nodes(), &redis.ZRangeBy{
		Min: "-inf", Max: fmt.Sprint(now.UnixMilli()),
	}).Result()
	if err != nil {
		return nil, wrap(err)
	}
	var changed []string
	for _, node := range dead {
		won, err := r.rdb.ZRem(ctx, r.nodes(), node).Result()
		if err != nil {
			return changed, wrap(err)
		}
		if won == 0 {
			continue
		}
		got, err := r.reapNode(ctx, node)
		changed = append(changed, got...)
		if err != nil {
			return changed, err
		}
	}
	sort.Strings(changed)
	return changed, nil
}

func (r *Redis) reapNode(ctx context.Context, node string) ([]string, error) {
	rooms, err := r.rdb.SMembers(ctx, r.nodeRooms(node)).Result()
	if err != nil || len(rooms) == 0 {
		return nil, wrap(err)
	}
	cmds, err := r.runEach(ctx, dropNode, rooms, node)
	if err != nil {
		return nil, err
	}
	var changed []string
	for i, id := range rooms {
		if n, _ := cmds[i].Int(); n > 0 {
			changed = append(changed, id)
		}
	}
	return changed, wrap(r.rdb.Del(ctx, r.nodeRooms(node)).Err())
}
