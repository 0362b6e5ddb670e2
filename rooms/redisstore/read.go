package redisstore

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/rooms"
)

var _ rooms.ReadHorizons = (*Store)(nil)

//go:embed scripts/read.lua
var readLua string

var readScript = redis.NewScript(readLua)

// RaiseHorizon runs read.lua: the compare, the check against the log's
// seq and the write are one step, so racing nodes only ever raise it.
func (r *Store) RaiseHorizon(ctx context.Context, id, reader string, seq int64) (int64, bool, error) {
	keys := []string{r.sessionKey(id, "read"), r.sessionKey(id, "seq")}
	res, err := readScript.Run(ctx, r.rdb, keys, reader, seq).Int64Slice()
	if err != nil {
		return 0, false, unavailable(err)
	}
	if len(res) != 2 {
		return 0, false, unavailable(fmt.Errorf("read script answered %v", res))
	}
	return res[0], res[1] == 1, nil
}

// Horizons reads the sessions' read hashes in one pipeline.
func (r *Store) Horizons(ctx context.Context, ids []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, r.sessionKey(id, "read"))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err)
	}
	for i, cmd := range cmds {
		for reader, v := range cmd.Val() {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			if out[ids[i]] == nil {
				out[ids[i]] = map[string]int64{}
			}
			out[ids[i]][reader] = n
		}
	}
	return out, nil
}
