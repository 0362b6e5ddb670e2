package hub

import (
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/redisstore"
)

// Backend is the matched set of parts nodes run on: the system of
// record, the invitation outbox, presence and the bus between nodes, all
// on one memory or on one Redis. Building them here, once, keeps what
// must agree in agreement: the key prefix, the room channel the store
// publishes to and the bus subscribes, sharded pub/sub on a Cluster, and
// the memory store's hook into the memory bus (without it a message
// reaches other connections only when their room re-reads its log, a
// second late).
//
// It lives in hub, not in the package that wires whole servers
// (internal/app), because hub's and api's own tests build their nodes on
// it and cannot import a package that imports them.
type Backend struct {
	// Name says which backend: memory, redis or redis-cluster.
	Name     string
	Store    rooms.Store
	Outbox   notify.Outbox
	Presence presence.Tracker

	mem     *bus.MemoryBus // memory: the bus every node shares
	rdb     redis.UniversalClient
	opts    RedisBackendOptions
	channel func(sessionID string) string
}

// outboxSize is how many invitations an outbox keeps.
const outboxSize = 1000

// MemoryBackend is the embedded backend: everything in this process,
// shared by the nodes built on it (one in production, several in tests).
func MemoryBackend() *Backend {
	store := memstore.New()
	mem := bus.NewMemoryBus()
	store.Published = mem.PublishEvents
	return &Backend{Name: "memory", Store: store, Outbox: notify.NewMemoryOutbox(outboxSize),
		Presence: presence.NewMemory(), mem: mem}
}

// RedisBackendOptions configure a Redis backend.
type RedisBackendOptions struct {
	// Prefix of every key and channel. Zero value: rooms.KeyPrefix (tests
	// give each their own).
	Prefix string
	// Sharded says the client is a Redis Cluster's: sharded pub/sub, and
	// no command crosses slots.
	Sharded bool
	// MinReplicas is how many replicas must hold a room commit before it
	// is acknowledged (redisstore.Options). Zero value: no wait.
	MinReplicas int
	// ProbeEvery paces the bus's probe of its own subscriber. Zero value: 2 s.
	ProbeEvery time.Duration
	// Log receives the store's background repairs. Zero value: none.
	Log zerolog.Logger
}

// RedisBackend is a backend on rdb, one node's client: a single server,
// a Sentinel-managed master or a Cluster (with Sharded) alike. The
// caller owns rdb and closes it.
func RedisBackend(rdb redis.UniversalClient, opts RedisBackendOptions) *Backend {
	if opts.Prefix == "" {
		opts.Prefix = rooms.KeyPrefix
	}
	name := "redis"
	if opts.Sharded {
		name = "redis-cluster"
	}
	store := redisstore.New(rdb, opts.Prefix, redisstore.Options{Sharded: opts.Sharded, MinReplicas: opts.MinReplicas, Log: opts.Log})
	return &Backend{Name: name, Store: store, Outbox: notify.NewRedisOutbox(rdb, opts.Prefix, outboxSize),
		Presence: presence.NewRedis(rdb, opts.Prefix), rdb: rdb, opts: opts, channel: store.Channel}
}

// Node builds a node on the backend from cfg (whose Service must run on
// b.Store): its bus, the backend's presence, and the node as its
// service's presence. Start runs it.
func (b *Backend) Node(cfg Config) *Node {
	if cfg.Node == "" {
		cfg.Node = "n_" + ulid.Make().String()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	cfg.Bus, cfg.Presence = b.bus(cfg.Node, cfg.Metrics, cfg.Log), b.Presence
	n := NewNode(cfg)
	cfg.Service.SetPresence(n)
	return n
}

// bus is a new node's view of the bus; its Redis errors count in the
// node's RedisErrors.
func (b *Backend) bus(node string, metrics *Metrics, log zerolog.Logger) bus.Bus {
	if b.mem != nil {
		return b.mem.Node()
	}
	var errs prometheus.Counter
	if metrics != nil {
		errs = metrics.RedisErrors
	}
	return bus.NewRedisBus(b.rdb, bus.RedisBusOptions{Prefix: b.opts.Prefix, Sharded: b.opts.Sharded, Channel: b.channel,
		Node: node, ProbeEvery: b.opts.ProbeEvery, Errors: errs}, log)
}
