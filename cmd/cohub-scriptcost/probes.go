package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// probe is one way of sending a message to Redis; script nil is a bare
// PUBLISH.
type probe struct {
	name   string
	script *redis.Script
	bare   bool // the script takes the channel and the whole event only
}

// The bare script prices a script's start alone: one key, one argument.
// The two probes after it take the message script's keys and arguments
// (rooms/redisstore/hot.go), so that each differs from the next only in
// what it runs.
const (
	bareScript = `redis.call('PUBLISH', KEYS[1], ARGV[1])
return {0, 1, '', '', 0, ''}`
	publishOnly = `redis.call('PUBLISH', ARGV[4], '{"seq":1,' .. ARGV[13] .. '"Cara"' .. ARGV[16])
return {0, 1, '', '', 0, ''}`
	logOnly = `local g = redis.call('HMGET', KEYS[1], 'st', 'am', 'au', 'cn', 'ag', 'tm', 'up', 'ua', 'la', ARGV[15])
local seq = redis.call('INCR', KEYS[2])
local event = '{"seq":' .. seq .. ',' .. ARGV[13] .. cjson.encode(g[4] or '') .. ARGV[16]
redis.call('XADD', KEYS[3], seq .. '-0', 'e', event)
redis.call('PUBLISH', ARGV[4], event)
return {0, seq, g[5] or '', g[6] or '', 0, g[4] or ''}`
)

func probes(appendLua string) []probe {
	return []probe{
		{name: "publish"},
		{name: "bare script", script: redis.NewScript(bareScript), bare: true},
		{name: "script+publish", script: redis.NewScript(publishOnly)},
		{name: "log+publish", script: redis.NewScript(logOnly)},
		{name: "append.lua", script: redis.NewScript(appendLua)},
	}
}

type bench struct {
	rdb    *redis.Client
	rooms  int
	probes []probe
	sub    *redis.PubSub // every room's channel, read and dropped
	sent   int           // calls so far: each message's name is new
}

// The event's parts as the node sends them (the customer's name goes
// between), about the size of a short chat message's; event is the whole
// of it, for the probes that publish it as it is.
var (
	pre   = `"type":"message","at":"2026-12-07T09:00:00.000Z","from":{"role":"customer","name":`
	post  = `},"text":"` + strings.Repeat("m", 100) + `","digest":"0123456789abcdef0123456789abcdef"}`
	event = `{"seq":1,` + pre + `"Cara"` + post
)

func (b *bench) key(room int, part string) string {
	return fmt.Sprintf("cohub:{s_%05d}:%s", room, part)
}

// setUp writes each room's session hash as a session's commit leaves it
// (its record's JSON with the write gate beside it) and subscribes to
// every room, so that each PUBLISH is delivered as a node's would be.
func (b *bench) setUp(ctx context.Context) error {
	record := `{"id":"s_1","state":"active","agent_id":"a_1","team_id":"t_1","customer":{"name":"Cara Customer","email":"cara@example.org"},` +
		`"tasks":[{"id":"k_1","kind":"sign","title":"Sign the offer","status":"pending"}],"notes":"` + strings.Repeat("n", 300) + `"}`
	now := time.Now().UnixMilli()
	channels := make([]string, b.rooms)
	for i := range b.rooms {
		err := b.rdb.HSet(ctx, b.key(i, "session"), "v", 1, "d", record, "st", "active", "cn", "Cara Customer",
			"ag", "a_1", "tm", "t_1", "ua", now, "la", now, "up", "0").Err()
		if err != nil {
			return err
		}
		channels[i] = b.key(i, "room")
	}
	b.sub = b.rdb.Subscribe(ctx, channels...)
	if _, err := b.sub.Receive(ctx); err != nil {
		return err
	}
	go func(ch <-chan *redis.Message) {
		for range ch {
		}
	}(b.sub.Channel(redis.WithChannelSize(1 << 14)))
	for _, p := range b.probes {
		if p.script != nil {
			if err := p.script.Load(ctx, b.rdb).Err(); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	return nil
}

// measure runs p at rate for d and answers Redis's CPU per call (µs).
func (b *bench) measure(ctx context.Context, p probe, rate int, d time.Duration) (float64, int, error) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	before, err := cpuSeconds(ctx, b.rdb)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		<-tick.C
		if err := b.call(ctx, p, b.sent%b.rooms); err != nil {
			return 0, n, err
		}
		b.sent++
	}
	after, err := cpuSeconds(ctx, b.rdb)
	if err != nil {
		return 0, n, err
	}
	return (after - before) * 1e6 / float64(max(n, 1)), n, nil
}

// call sends one message to room i the way p does.
func (b *bench) call(ctx context.Context, p probe, i int) error {
	if p.script == nil {
		return b.rdb.Publish(ctx, b.key(i, "room"), event).Err()
	}
	if p.bare {
		return p.script.Run(ctx, b.rdb, []string{b.key(i, "room")}, event).Err()
	}
	keys := []string{b.key(i, "session"), b.key(i, "seq"), b.key(i, "log"), b.key(i, "meta"), b.key(i, "once")}
	// role, now, epoch, channel, sharded, max events, name, rate every
	// (ms) and burst, names kept, names' life (ms), mark updated, the
	// event before the name, a customer's, the rate's field, the rest.
	args := []any{"customer", time.Now().UnixMilli(), "0123456789abcdef", b.key(i, "room"), "0", 0,
		fmt.Sprint("customer:c", b.sent), 1, 1 << 20, 256, 3600000, "1", pre, "1", "rt:customer", post}
	return p.script.Run(ctx, b.rdb, keys, args...).Err()
}
