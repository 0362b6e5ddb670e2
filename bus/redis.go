package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// RedisBus is the bus across nodes: Redis pub/sub on one subscriber
// connection; on Redis Cluster, sharded pub/sub on one subscriber
// connection per master, carrying every room whose slot that master
// serves (a shard channel lives on its slot's master), so a node holds as
// many subscriber connections as the cluster has masters, however many
// rooms it serves. The node's own probe channel proves the subscriber
// still delivers.
type RedisBus struct {
	rdb     redis.UniversalClient
	prefix  string
	sharded bool
	channel func(sessionID string) string
	probeCh string
	every   time.Duration
	log     zerolog.Logger
	errs    prometheus.Counter

	mu     sync.Mutex
	ctx    context.Context
	h      Handler
	topics map[string]string // channel -> topic
	shared *redis.PubSub
	// sharded: the subscriber connection of each master, by address, and
	// where each channel is subscribed (none while it waits for a place)
	shards map[string]*shard
	where  map[string]*shard
	kick   chan struct{} // wakes placeLoop: channels wait for a place
	// waiters are Subscribe calls waiting for Redis to confirm a channel
	waiters map[string][]chan struct{}

	probeMu   sync.Mutex
	sent      string // the last probe published
	seen      string // the last probe received
	unhealthy error
}

var _ Bus = (*RedisBus)(nil)

// RedisBusOptions configure a RedisBus.
type RedisBusOptions struct {
	Prefix  string
	Sharded bool
	// Channel names a session's room channel: the store publishes there.
	Channel func(sessionID string) string
	// Node names this node's probe channel.
	Node string
	// ProbeEvery is how often the probe goes out. Zero value: 2 s.
	ProbeEvery time.Duration
	// Errors counts the Redis errors the bus sees (the hub passes its
	// cohub_hub_redis_errors_total). Zero value: none counted.
	Errors prometheus.Counter
}

// NewRedisBus returns a bus on rdb; Start starts it.
func NewRedisBus(rdb redis.UniversalClient, opts RedisBusOptions, log zerolog.Logger) *RedisBus {
	if opts.ProbeEvery == 0 {
		opts.ProbeEvery = 2 * time.Second
	}
	return &RedisBus{
		rdb: rdb, prefix: opts.Prefix, sharded: opts.Sharded, channel: opts.Channel,
		probeCh: opts.Prefix + "probe:" + opts.Node, every: opts.ProbeEvery, log: log, errs: opts.Errors,
		topics: map[string]string{}, waiters: map[string][]chan struct{}{},
		shards: map[string]*shard{}, where: map[string]*shard{}, kick: make(chan struct{}, 1),
	}
}

func (b *RedisBus) channelOf(topic string) string {
	if id, ok := TopicRoom(topic); ok {
		return b.channel(id)
	}
	return b.prefix + topic
}

// Start subscribes every topic and the probe, and delivers until ctx ends.
func (b *RedisBus) Start(ctx context.Context, h Handler) {
	b.mu.Lock()
	b.ctx, b.h = ctx, h
	b.topics[b.probeCh] = ""
	subs := b.connectLocked(ctx, false)
	b.mu.Unlock()
	sendAll(subs)
	go b.probeLoop(ctx)
	if b.sharded {
		go b.placeLoop(ctx)
	}
}

func (b *RedisBus) probeLoop(ctx context.Context) {
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			b.closeAll()
			return
		case <-t.C:
			b.probe(ctx)
		}
	}
}

// connectLocked opens fresh subscribers for every topic; sharded, it
// returns the subscribes to send once b.mu is released.
func (b *RedisBus) connectLocked(ctx context.Context, again bool) []subscribe {
	if !b.sharded {
		b.shared = b.rdb.Subscribe(ctx)
		chans := make([]string, 0, len(b.topics))
		for ch := range b.topics {
			chans = append(chans, ch)
		}
		b.noteErr(b.shared.Subscribe(ctx, chans...))
		go b.receive(b.shared, again)
		return nil
	}
	subs := make([]subscribe, 0, len(b.topics))
	for ch := range b.topics {
		subs = append(subs, b.placeLocked(ctx, ch, again))
	}
	return subs
}

func (b *RedisBus) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeLocked()
}

// receive delivers one subscriber's messages. After an error go-redis
// reconnects and resubscribes on the next Receive; the first confirmation
// after that asks every room to catch up from the log.
// again: the subscriber replaces a lost one, so its first confirmation
// asks for a catch-up too.
func (b *RedisBus) receive(ps *redis.PubSub, again bool) {
	lost, backoff := again, 50*time.Millisecond
	for {
		msg, err := ps.Receive(context.Background())
		if errors.Is(err, redis.ErrClosed) {
			return
		}
		if err != nil {
			b.noteErr(err)
			lost = true
			time.Sleep(backoff) // a retry pause, not synchronisation
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" && m.Kind != "ssubscribe" {
				continue
			}
			b.confirm(m.Channel)
			if lost {
				lost = false
				b.resync()
			}
		case *redis.Message:
			b.deliver(m.Channel, m.Payload)
		}
	}
}

func (b *RedisBus) deliver(ch, payload string) {
	if ch == b.probeCh {
		b.probeMu.Lock()
		b.seen = payload
		b.probeMu.Unlock()
		return
	}
	b.mu.Lock()
	topic, h := b.topics[ch], b.h
	b.mu.Unlock()
	if topic != "" && h != nil {
		h.Deliver(topic, []byte(payload))
	}
}

func (b *RedisBus) resync() {
	b.log.Info().Msg("bus resubscribed; rooms catch up from the log")
	b.mu.Lock()
	h := b.h
	b.mu.Unlock()
	if h != nil {
		h.Resync()
	}
}

func (b *RedisBus) noteErr(err error) {
	if err != nil && b.errs != nil {
		b.errs.Inc()
	}
}

// probe checks that the last probe came back and sends the next. One
// that did not come back means the subscriber may be dead without an
// error (a failover, a proxy): reconnect it and catch up from the log.
func (b *RedisBus) probe(ctx context.Context) {
	b.probeMu.Lock()
	lost := b.sent != "" && b.seen != b.sent
	if lost {
		b.unhealthy = errors.New("bus subscriber is not delivering")
	} else {
		b.unhealthy = nil
	}
	b.sent = nonce()
	sent := b.sent
	b.probeMu.Unlock()
	if lost {
		b.log.Warn().Msg("bus probe did not come back; reconnecting the subscriber")
		b.mu.Lock()
		b.closeLocked()
		subs := b.connectLocked(ctx, true)
		b.mu.Unlock()
		sendAll(subs)
	}
	if b.sharded {
		b.checkPlaces(ctx)
	}
	// Sent aside: a publish stuck on a stalled server must not stop the
	// next check from noticing.
	go func() {
		pctx, cancel := context.WithTimeout(ctx, b.every)
		defer cancel()
		_ = b.publish(pctx, b.probeCh, sent)
	}()
}

func (b *RedisBus) closeLocked() {
	if b.shared != nil {
		_ = b.shared.Close()
		b.shared = nil
	}
	for _, sh := range b.shards {
		b.dropShardLocked(sh)
	}
}

func nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Ready is an error while the probe is not coming back, or (sharded)
// while a channel waits for its master's subscriber.
func (b *RedisBus) Ready() error {
	b.probeMu.Lock()
	err := b.unhealthy
	b.probeMu.Unlock()
	if err == nil && b.sharded {
		b.mu.Lock()
		waiting := len(b.topics) - len(b.where)
		b.mu.Unlock()
		if waiting > 0 {
			err = fmt.Errorf("bus: %d channels wait for their master's subscriber", waiting)
		}
	}
	return err
}

// Subscribe adds a topic to this node's subscriber and waits (briefly)
// for Redis to confirm it, so that what the caller reads next (a room's
// last seq) is not older than the subscription.
func (b *RedisBus) Subscribe(ctx context.Context, topic string) error {
	ch := b.channelOf(topic)
	confirmed := make(chan struct{})
	b.mu.Lock()
	b.topics[ch] = topic
	b.waiters[ch] = append(b.waiters[ch], confirmed)
	var err error
	var sub subscribe
	running := true
	switch {
	case b.sharded && b.ctx != nil:
		sub = b.placeLocked(b.ctx, ch, false)
	case b.shared != nil:
		err = b.shared.Subscribe(ctx, ch)
	default:
		running = false // Start subscribes every topic
	}
	b.mu.Unlock()
	if sub != nil {
		sub() // a failure waits for placeLoop, which the confirmation follows
	}
	if err != nil {
		b.noteErr(err)
		// go-redis keeps the channel and subscribes it on reconnect.
		return fmt.Errorf("%w: subscribe: %v", errBus, err)
	}
	if !running {
		return nil
	}
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-confirmed:
	case <-t.C: // the room's once-a-second log re-read covers the rest
	case <-ctx.Done():
	}
	return nil
}

// confirm wakes the Subscribe calls waiting for a channel.
func (b *RedisBus) confirm(ch string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.waiters[ch] {
		close(w)
	}
	delete(b.waiters, ch)
}

var errBus = errors.New("bus unavailable")

// Unsubscribe drops a topic.
func (b *RedisBus) Unsubscribe(ctx context.Context, topic string) {
	ch := b.channelOf(topic)
	b.mu.Lock()
	delete(b.topics, ch)
	sh := b.where[ch]
	if sh != nil {
		delete(sh.chans, ch)
		delete(b.where, ch)
	}
	if b.shared != nil {
		b.noteErr(b.shared.Unsubscribe(ctx, ch))
	}
	b.mu.Unlock()
	if sh != nil {
		b.noteErr(sh.ps.SUnsubscribe(ctx, ch))
	}
}

// Publish sends an ephemeral message.
func (b *RedisBus) Publish(ctx context.Context, topic string, msg []byte) error {
	return b.publish(ctx, b.channelOf(topic), string(msg))
}

func (b *RedisBus) publish(ctx context.Context, ch, msg string) error {
	var err error
	if b.sharded {
		err = b.rdb.SPublish(ctx, ch, msg).Err()
	} else {
		err = b.rdb.Publish(ctx, ch, msg).Err()
	}
	if err != nil {
		b.noteErr(err)
	}
	return err
}
