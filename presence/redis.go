package presence

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is presence shared by every node. Per room, under the room's
// hash tag: a zset of connection id → expiry (unix ms) and a hash of
// connection id → Conn JSON. Per node: its liveness in one zset, and the
// set of rooms it has entries in, so a survivor can reap a dead node.
//
// Nothing here uses MULTI or crosses slots: batches are plain pipelines
// and scripts touch only one room's keys, so it runs on Redis Cluster.
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

// Refresh upserts a node's connections in one pipeline, one ZADD and one
// HSET per room rather than per connection.
func (r *Redis) Refresh(ctx context.Context, node string, conns []Conn, until time.Time) error {
	score := float64(until.UnixMilli())
	// A relative TTL, not PEXPIREAT until+keep: an until in the past (a
	// late batch, a test clock) must still leave the keys a minute to live.
	ttl := max(time.Until(until), 0) + keep
	rooms, groups := byRoom(conns)
	pipe := r.rdb.Pipeline()
	for _, room := range rooms {
		members := make([]redis.Z, 0, len(groups[room]))
		fields := make([]any, 0, 2*len(groups[room]))
		for _, c := range groups[room] {
			info, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("presence: %w", err)
			}
			members = append(members, redis.Z{Score: score, Member: c.ID})
			fields = append(fields, c.ID, info)
		}
		pipe.ZAdd(ctx, r.zset(room), members...)
		pipe.HSet(ctx, r.info(room), fields...)
		pipe.PExpire(ctx, r.zset(room), ttl)
		pipe.PExpire(ctx, r.info(room), ttl)
	}
	if len(rooms) > 0 {
		pipe.SAdd(ctx, r.nodeRooms(node), toAny(rooms)...)
		pipe.PExpire(ctx, r.nodeRooms(node), ttl)
	}
	_, err := pipe.Exec(ctx)
	return wrap(err)
}

// Alive marks the node alive until then.
func (r *Redis) Alive(ctx context.Context, node string, until time.Time) error {
	return wrap(r.rdb.ZAdd(ctx, r.nodes(), redis.Z{Score: float64(until.UnixMilli()), Member: node}).Err())
}

// Leave shortens tracked entries to at. ZADD XX never adds a member, so
// a connection that was never refreshed (or was already removed) stays
// absent; its info needs no write since it cannot change on leave.
func (r *Redis) Leave(ctx context.Context, conns []Conn, at time.Time) error {
	if len(conns) == 0 {
		return nil
	}
	score := float64(at.UnixMilli())
	rooms, groups := byRoom(conns)
	pipe := r.rdb.Pipeline()
	for _, room := range rooms {
		members := make([]redis.Z, len(groups[room]))
		for i, c := range groups[room] {
			members[i] = redis.Z{Score: score, Member: c.ID}
		}
		pipe.ZAddXX(ctx, r.zset(room), members...)
	}
	_, err := pipe.Exec(ctx)
	return wrap(err)
}

// byRoom groups conns by room, rooms in first-seen order.
func byRoom(conns []Conn) ([]string, map[string][]Conn) {
	var rooms []string
	groups := map[string][]Conn{}
	for _, c := range conns {
		if _, ok := groups[c.Room]; !ok {
			rooms = append(rooms, c.Room)
		}
		groups[c.Room] = append(groups[c.Room], c)
	}
	return rooms, groups
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// readRoom drops a room's expired entries (score <= now) and returns the
// info of the live ones. A script so the read and the sweep see the same
// members; both keys share the room's slot.
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
// EVALSHA rather than EVAL so a batch of a thousand rooms does not send
// the script body a thousand times a second.
func (r *Redis) runEach(ctx context.Context, s *redis.Script, rooms []string, arg any) ([]*redis.Cmd, error) {
	for attempt := 0; ; attempt++ {
		pipe := r.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(rooms))
		for i, id := range rooms {
			cmds[i] = s.EvalSha(ctx, pipe, []string{r.zset(id), r.info(id)}, arg)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
			if err := r.load(ctx, s); err != nil {
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

// load loads a script on every server that may run it: on a cluster each
// shard's master, since the rooms of one batch span them.
func (r *Redis) load(ctx context.Context, s *redis.Script) error {
	if c, ok := r.rdb.(*redis.ClusterClient); ok {
		return wrap(c.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error {
			return s.Load(ctx, shard).Err()
		}))
	}
	return wrap(s.Load(ctx, r.rdb).Err())
}

// decodeConns turns HMGET replies into entries sorted by ID, skipping
// missing or unreadable info rather than failing the whole batch.
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
	sortByID(out)
	return out
}

func sortByID(conns []Conn) {
	slices.SortFunc(conns, func(a, b Conn) int { return cmp.Compare(a.ID, b.ID) })
}

// dropNode removes one node's entries from a room and returns how many
// it removed. Unreadable info is left to expire by its score.
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

// Reap removes the entries of nodes whose liveness ran out (score <= now).
// ZREM of the node is the claim: only the caller whose ZREM removed it
// reaps it. A caller that fails after claiming (a Redis Cluster master
// failing over under one of the rooms) puts the node back as dead, so
// the next reap tries again: its entries live long, and left alone they
// would keep customers online who have gone.
func (r *Redis) Reap(ctx context.Context, now time.Time) ([]string, error) {
	dead, err := r.rdb.ZRangeByScore(ctx, r.nodes(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, wrap(err)
	}
	changed := map[string]bool{}
	for _, node := range dead {
		claimed, err := r.reapIfClaimed(ctx, node, changed)
		if err != nil {
			if claimed {
				_ = r.rdb.ZAdd(ctx, r.nodes(), redis.Z{Score: 0, Member: node}).Err()
			}
			return slices.Sorted(maps.Keys(changed)), err
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return slices.Sorted(maps.Keys(changed)), nil
}

// reapIfClaimed claims node and, if this caller won, removes its entries,
// adding the rooms that lost one to changed. It reports whether it
// claimed the node.
func (r *Redis) reapIfClaimed(ctx context.Context, node string, changed map[string]bool) (bool, error) {
	won, err := r.rdb.ZRem(ctx, r.nodes(), node).Result()
	if err != nil || won == 0 {
		return false, wrap(err)
	}
	rooms, err := r.rdb.SMembers(ctx, r.nodeRooms(node)).Result()
	if err != nil {
		return true, wrap(err)
	}
	if len(rooms) > 0 {
		cmds, err := r.runEach(ctx, dropNode, rooms, node)
		if err != nil {
			return true, err
		}
		for i, id := range rooms {
			if n, _ := cmds[i].Int(); n > 0 {
				changed[id] = true
			}
		}
	}
	return true, wrap(r.rdb.Del(ctx, r.nodeRooms(node)).Err())
}
