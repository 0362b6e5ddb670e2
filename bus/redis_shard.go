package bus

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sharded pub/sub on Redis Cluster: a shard channel is served by the
// master of its slot, so a node keeps one subscriber connection per
// master and subscribes each room's channel on the connection of the
// master serving it. Slots move (a reshard) and masters fail (a replica
// takes over): a channel whose master lets go of it (a sunsubscribe
// Redis sends when its slot leaves, a MOVED answer, a lost connection)
// waits for a place until the slot map, read again, names its master;
// rooms then catch up from the log.
//
// go-redis cannot reconnect such a connection itself: it would send
// every channel in one SSUBSCRIBE, which Redis refuses unless all share
// one slot. A connection that fails is closed, and its channels placed
// again one by one.

// shard is this node's subscriber connection to one master.
type shard struct {
	addr   string
	ps     *redis.PubSub
	chans  map[string]bool // channel -> Redis confirmed it
	lost   bool            // channels came here after a loss: catch up once all are confirmed
	closed bool            // closed by the bus: its errors mean nothing
}

// masterFor returns the client of the master serving ch, and its address.
func (b *RedisBus) masterFor(ctx context.Context, ch string) (redis.UniversalClient, string, error) {
	cc, ok := b.rdb.(*redis.ClusterClient)
	if !ok {
		return b.rdb, "", nil // one server serves every slot
	}
	m, err := cc.MasterForKey(ctx, ch)
	if err != nil {
		return nil, "", err
	}
	return m, m.Options().Addr, nil
}

// placeLocked assigns ch to the connection of the master serving it,
// opening one when this node has none, and returns the SSUBSCRIBE to send
// once b.mu is released (a dial to a master that is down must not hold
// the bus); nil when the master is not known yet (placeLoop tries again).
// again: the channel may have missed messages, so rooms catch up once
// the shard confirms it.
func (b *RedisBus) placeLocked(ctx context.Context, ch string, again bool) subscribe {
	m, addr, err := b.masterFor(ctx, ch)
	if err != nil {
		b.noteErr(err)
		b.wake()
		return nil
	}
	sh := b.shards[addr]
	if sh == nil {
		sh = &shard{addr: addr, ps: m.SSubscribe(ctx), chans: map[string]bool{}}
		b.shards[addr] = sh
		go b.receiveShard(sh)
	}
	if old := b.where[ch]; old != nil && old != sh {
		delete(old.chans, ch) // its slot moved: leave the old master's connection
		go func() { b.noteErr(old.ps.SUnsubscribe(ctx, ch)) }()
	}
	sh.lost = sh.lost || again
	sh.chans[ch] = false
	b.where[ch] = sh
	// Sent again when already there: Redis confirms it again, and a
	// Subscribe waiting for that confirmation gets it.
	return func() bool {
		if err := sh.ps.SSubscribe(ctx, ch); err != nil {
			b.noteErr(err)
			b.mu.Lock()
			b.dropShardLocked(sh)
			b.mu.Unlock()
			b.wake()
			return false
		}
		return true
	}
}

// subscribe sends one placed channel's SSUBSCRIBE; false when it failed.
type subscribe func() bool

// sendAll sends subscribes (b.mu not held); false when one failed or
// was not placed.
func sendAll(subs []subscribe) bool {
	ok := true
	for _, s := range subs {
		if s == nil || !s() {
			ok = false
		}
	}
	return ok
}

// dropShardLocked closes a shard; its channels wait for a place.
func (b *RedisBus) dropShardLocked(sh *shard) {
	if sh.closed {
		return
	}
	sh.closed = true
	_ = sh.ps.Close()
	if b.shards[sh.addr] == sh {
		delete(b.shards, sh.addr)
	}
	for ch := range sh.chans {
		if b.where[ch] == sh {
			delete(b.where, ch)
		}
	}
}

// unplaceLocked takes channels off a shard that no longer serves them.
func (b *RedisBus) unplaceLocked(sh *shard, chans ...string) {
	for _, ch := range chans {
		delete(sh.chans, ch)
		if b.where[ch] == sh {
			delete(b.where, ch)
		}
	}
	if len(chans) > 0 {
		b.wake()
	}
}

func (b *RedisBus) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// receiveShard delivers one master's messages until its connection fails
// or the bus closes it.
func (b *RedisBus) receiveShard(sh *shard) {
	for {
		msg, err := sh.ps.Receive(context.Background())
		if err != nil {
			b.shardFailed(sh, err)
			if b.shardClosed(sh) {
				return
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			b.shardSubscription(sh, m)
		case *redis.Message:
			b.deliver(m.Channel, m.Payload)
		}
	}
}

func (b *RedisBus) shardClosed(sh *shard) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return sh.closed
}

// shardFailed handles an error on a shard's connection. A Redis error
// reply (MOVED: a channel was sent to a master that does not serve it)
// leaves the connection up: the channels it has not confirmed are placed
// again. Anything else closes it.
func (b *RedisBus) shardFailed(sh *shard, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sh.closed {
		return
	}
	b.noteErr(err)
	var reply redis.Error
	if errors.As(err, &reply) {
		var waiting []string
		for ch, ok := range sh.chans {
			if !ok {
				waiting = append(waiting, ch)
			}
		}
		b.unplaceLocked(sh, waiting...)
		return
	}
	if b.ctx == nil || b.ctx.Err() == nil {
		// Not when the node is stopping: its client closed the connection.
		b.log.Warn().Err(err).Str("master", sh.addr).Msg("bus lost a master's subscriber; placing its rooms again")
	}
	b.dropShardLocked(sh)
	b.wake()
}

// shardSubscription notes a confirmed channel, or one Redis let go of
// because its slot left this master.
func (b *RedisBus) shardSubscription(sh *shard, m *redis.Subscription) {
	b.mu.Lock()
	resync := false
	switch m.Kind {
	case "ssubscribe":
		if _, ok := sh.chans[m.Channel]; ok {
			sh.chans[m.Channel] = true
		}
		if sh.lost && allConfirmed(sh) {
			sh.lost, resync = false, true
		}
	case "sunsubscribe":
		if _, wanted := b.topics[m.Channel]; wanted && b.where[m.Channel] == sh {
			b.unplaceLocked(sh, m.Channel)
		}
	}
	b.mu.Unlock()
	if m.Kind == "ssubscribe" {
		b.confirm(m.Channel)
	}
	if resync {
		b.resync()
	}
}

func allConfirmed(sh *shard) bool {
	for _, ok := range sh.chans {
		if !ok {
			return false
		}
	}
	return true
}

// placeLoop places channels that wait for a master, reading the slot map
// again first, until none waits.
func (b *RedisBus) placeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		}
		for pause := 50 * time.Millisecond; ; pause = min(2*pause, time.Second) {
			if cc, ok := b.rdb.(*redis.ClusterClient); ok {
				cc.ReloadState(ctx)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause): // the slot map reloads aside; a failover takes its time
			}
			if b.placeWaiting(ctx) {
				break
			}
		}
	}
}

// placeWaiting places every channel without a shard; true when all are.
func (b *RedisBus) placeWaiting(ctx context.Context) bool {
	b.mu.Lock()
	var subs []subscribe
	for ch := range b.topics {
		if b.where[ch] == nil {
			subs = append(subs, b.placeLocked(ctx, ch, true))
		}
	}
	b.mu.Unlock()
	ok := sendAll(subs)
	// What a failed place woke is this loop's own retry.
	select {
	case <-b.kick:
	default:
	}
	return ok
}

// checkPlaces takes channels off a master that no longer serves their
// slot, by the slot map go-redis keeps (read again on MOVED and every
// 10 s), and places them again: the backstop for a sunsubscribe that did
// not come.
func (b *RedisBus) checkPlaces(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch, sh := range b.where {
		if _, addr, err := b.masterFor(ctx, ch); err == nil && addr != sh.addr {
			go func() { b.noteErr(sh.ps.SUnsubscribe(ctx, ch)) }()
			b.unplaceLocked(sh, ch)
		}
	}
}
