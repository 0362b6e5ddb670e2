package app

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/redisconn"
)

// Embedded says o names no Redis: an embedded backend.
func Embedded(o redisconn.Options) bool {
	return o.URL == "" && len(o.Cluster) == 0 && len(o.Sentinel) == 0
}

// The embedded backends OpenOptions.Store names.
const (
	StoreEmbedded = "embedded" // on disk, in the data directory (the default)
	StoreMemory   = "memory"   // in this process's memory, gone when it stops
)

// OpenOptions name a backend set.
type OpenOptions struct {
	// Redis names a Redis topology; none means an embedded backend.
	Redis redisconn.Options
	// Store is StoreEmbedded or StoreMemory when Redis names none. Zero
	// value: StoreEmbedded.
	Store string
	// DataDir is the embedded backend's directory. Zero value: ./cohub-data.
	DataDir string
}

// DefaultDataDir is where the embedded backend keeps its data.
const DefaultDataDir = "cohub-data"

// Open returns the backend set o names — on disk in the data directory
// when it names no Redis, in memory when asked; one server, Sentinel or
// a Cluster otherwise — and what closes it.
func Open(o OpenOptions, log zerolog.Logger) (*Backend, func(), error) {
	if !Embedded(o.Redis) {
		rdb, err := redisconn.New(o.Redis)
		if err != nil {
			return nil, nil, err
		}
		b := RedisBackend(rdb, RedisBackendOptions{Sharded: o.Redis.Sharded(), MinReplicas: o.Redis.Replicas(), Log: log})
		return b, func() { _ = rdb.Close() }, nil
	}
	switch o.Store {
	case StoreMemory:
		return MemoryBackend(), func() {}, nil
	case "", StoreEmbedded:
		dir := o.DataDir
		if dir == "" {
			dir = DefaultDataDir
		}
		b, err := DiskBackend(dir, log)
		if err != nil {
			return nil, nil, err
		}
		return b, func() { _ = b.DataDir.Close() }, nil
	}
	return nil, nil, fmt.Errorf("--store must be %s or %s", StoreEmbedded, StoreMemory)
}
