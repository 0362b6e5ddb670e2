package app

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/hub"
)

// Redis names the Redis a deployment keeps its state in: one server (or
// a managed endpoint) by URL, or a Redis Cluster by its nodes. Neither:
// the embedded memory backend.
type Redis struct {
	URL     string // --redis: redis:// or rediss://
	Cluster string // --redis-cluster: host:port,host:port,…
}

// Embedded says no Redis is named.
func (r Redis) Embedded() bool { return r.URL == "" && r.Cluster == "" }

// Open returns the backend set r names, and what closes it.
func Open(r Redis, log zerolog.Logger) (*hub.Backend, func(), error) {
	if r.Embedded() {
		return hub.MemoryBackend(), func() {}, nil
	}
	rdb, err := RedisClient(r, 0)
	if err != nil {
		return nil, nil, err
	}
	b := hub.RedisBackend(rdb, hub.RedisBackendOptions{Sharded: r.Cluster != "", Log: log})
	return b, func() { _ = rdb.Close() }, nil
}

// RedisClient connects as r says; dialTries bounds the dials one
// command makes (zero: go-redis's default, 5).
// RedisClient speaks RESP2 unless the URL asks for another protocol:
// Cohub uses no RESP3 feature, and go-redis looks for RESP3 push
// notifications on every pipeline and pub/sub read (measured: about 8%
// of a node's CPU at 1,000 messages a second).
func RedisClient(r Redis, dialTries int) (redis.UniversalClient, error) {
	if r.Cluster != "" {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(r.Cluster, ","),
			DialerRetries: dialTries, Protocol: 2}), nil
	}
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		return nil, fmt.Errorf("--redis: %w", err)
	}
	if u, err := url.Parse(r.URL); err == nil && !u.Query().Has("protocol") {
		opt.Protocol = 2
	}
	if dialTries > 0 {
		opt.DialerRetries = dialTries
	}
	return redis.NewClient(opt), nil
}
