package app

import (
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/redisconn"
)

// Embedded says o names no Redis: the memory backend.
func Embedded(o redisconn.Options) bool {
	return o.URL == "" && len(o.Cluster) == 0 && len(o.Sentinel) == 0
}

// Open returns the backend set o names — memory when it names no Redis;
// one server, Sentinel or a Cluster otherwise — and what closes it.
func Open(o redisconn.Options, log zerolog.Logger) (*Backend, func(), error) {
	if Embedded(o) {
		return MemoryBackend(), func() {}, nil
	}
	rdb, err := redisconn.New(o)
	if err != nil {
		return nil, nil, err
	}
	b := RedisBackend(rdb, RedisBackendOptions{Sharded: o.Sharded(), MinReplicas: o.Replicas(), Log: log})
	return b, func() { _ = rdb.Close() }, nil
}
