package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redistest"
)

// Every probe runs against the shipped script's keys and arguments: the
// logging probes number and log the room's events one after the other,
// and the message script records the send's name and the activity, so a
// change to the script's arguments shows here, not as a wrong price.
func TestProbesSendWhatTheScriptTakes(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	body, err := os.ReadFile("../../rooms/redisstore/scripts/append.lua")
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{rdb: rdb, rooms: 3, probes: probes(string(body))}
	if err := b.setUp(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.sub.Close() })
	before := time.Now().UnixMilli()
	name := ""
	for _, p := range b.probes {
		if p.name == "append.lua" {
			name = fmt.Sprint("customer:c", b.sent)
		}
		if err := b.call(ctx, p, 1); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		b.sent++
	}
	log, err := rdb.XRange(ctx, b.key(1, "log"), "-", "+").Result()
	if err != nil || len(log) != 2 || log[0].ID != "1-0" || log[1].ID != "2-0" {
		t.Fatalf("room 1's log %v %v, want seqs 1 and 2", log, err)
	}
	if e, _ := log[1].Values["e"].(string); !strings.HasPrefix(e, `{"seq":2,`) || !strings.Contains(e, `"name":"Cara Customer"`) {
		t.Fatalf("the message script logged %s", e)
	}
	if seq, err := rdb.ZScore(ctx, b.key(1, "once"), name).Result(); err != nil || seq != 2 {
		t.Fatalf("the send's name: %v %v", seq, err)
	}
	if ua, _ := rdb.HGet(ctx, b.key(1, "session"), "ua").Int64(); ua < before {
		t.Fatalf("updated at %d, want at least %d", ua, before)
	}
}

// A run prints each probe's price a round and their means against the
// bare PUBLISH.
func TestRunPrintsEachProbe(t *testing.T) {
	var out bytes.Buffer
	o := options{rate: 200, rooms: 5, rounds: 1, each: 100 * time.Millisecond, appendLua: "../../rooms/redisstore/scripts/append.lua"}
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"publish", "bare script", "script+publish", "log+publish", "append.lua"} {
		if !strings.Contains(out.String(), "round 1  "+name) || !strings.Contains(out.String(), "mean     "+name) {
			t.Fatalf("no %s in\n%s", name, out.String())
		}
	}
}
