package app

import (
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/followup/boltsched"
	"github.com/cohub/cohub/followup/memsched"
	"github.com/cohub/cohub/followup/redissched"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/redisstore"
	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/boltqueue"
	"github.com/cohub/cohub/webhooks/memqueue"
	"github.com/cohub/cohub/webhooks/redisqueue"
)

// Backend is the matched set of parts nodes run on: the system of
// record, the invitation outbox, presence and the bus between nodes, all
// on one memory or on one Redis. Building them here, once, keeps what
// must agree in agreement: the key prefix, the room channel the store
// publishes to and the bus subscribes, sharded pub/sub on a Cluster, and
// the memory store's publish into the memory bus (without it a message
// reaches other connections only when their room re-reads its log, a
// second late).
type Backend struct {
	// Name says which backend: embedded, memory, redis or redis-cluster.
	Name     string
	Store    rooms.Store
	Outbox   notify.Outbox
	Presence presence.Tracker
	// DataDir is the embedded backend's directory (nil on the others).
	DataDir *DataDir
	// Webhooks keeps webhook endpoints and the deliveries' queue.
	Webhooks webhooks.Store
	// Followups keeps each session's next follow-up wake-up.
	Followups followup.Schedule

	mem     *bus.MemoryBus // memory: the bus every node shares
	lose    atomic.Bool    // memory: commits are not published (LosePublishes)
	rdb     redis.UniversalClient
	opts    RedisBackendOptions
	channel func(sessionID string) string
}

// outboxSize is how many invitations an outbox keeps.
const outboxSize = 1000

// MemoryBackend is the embedded backend: everything in this process,
// shared by the nodes built on it (one in production, several in tests).
func MemoryBackend() *Backend {
	b := &Backend{Name: "memory", Outbox: notify.NewMemoryOutbox(outboxSize), Presence: presence.NewMemory(),
		Webhooks: memqueue.New(), Followups: memsched.New(), mem: bus.NewMemoryBus()}
	b.Store = memstore.New(func(id string, evs []rooms.Event) {
		if !b.lose.Load() {
			b.mem.PublishEvents(id, evs)
		}
	})
	return b
}

// DiskBackend is the durable embedded backend: the store and the outbox
// in the data directory dir, which this process holds alone; presence
// and the bus in memory, as on the memory backend (presence is live
// state: after a restart every customer shows offline until they
// reconnect).
func DiskBackend(dir string, log zerolog.Logger) (*Backend, error) {
	b := &Backend{Name: StoreEmbedded, Presence: presence.NewMemory(), mem: bus.NewMemoryBus()}
	d, err := OpenDataDir(dir, func(id string, evs []rooms.Event) {
		if !b.lose.Load() {
			b.mem.PublishEvents(id, evs)
		}
	}, log)
	if err != nil {
		return nil, err
	}
	b.DataDir, b.Store, b.Outbox = d, d.Store, d.Store.Outbox()
	// Webhooks go in the store's own file, so a restart keeps endpoints
	// and pending deliveries, and a backup holds them.
	hooks, err := boltqueue.New(d.Store.DB())
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	b.Webhooks = hooks
	if b.Followups, err = boltsched.New(d.Store.DB()); err != nil {
		_ = d.Close()
		return nil, err
	}
	return b, nil
}

// LosePublishes makes a memory backend lose its commits' publishes while
// on is set, as Redis loses pub/sub messages in a network fault: rooms
// must then read their logs. Fault tests use it; a Redis backend ignores
// it (its faults are real ones).
func (b *Backend) LosePublishes(on bool) {
	b.lose.Store(on)
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
		Presence: presence.NewRedis(rdb, opts.Prefix), Webhooks: redisqueue.New(rdb, opts.Prefix),
		Followups: redissched.New(rdb, opts.Prefix), rdb: rdb, opts: opts, channel: store.Channel}
}

// Node builds a node on the backend from cfg (whose domain must run on
// b.Store): its bus, wrapped by wrap when set, and the backend's
// presence. Start runs it.
func (b *Backend) Node(cfg hub.Config, wrap func(bus.Bus) bus.Bus) *hub.Node {
	if cfg.Node == "" {
		cfg.Node = "n_" + ulid.Make().String()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = hub.NewMetrics()
	}
	cfg.Bus, cfg.Presence = b.bus(cfg.Node, cfg.Metrics, cfg.Log), b.Presence
	if wrap != nil {
		cfg.Bus = wrap(cfg.Bus)
	}
	return hub.NewNode(cfg)
}

// bus is a new node's view of the bus; its Redis errors count in the
// node's RedisErrors.
func (b *Backend) bus(node string, metrics *hub.Metrics, log zerolog.Logger) bus.Bus {
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
