// Command cohub-scriptcost prices a chat message's Redis work: on a
// private redis-server it calls, at a steady rate over many rooms (so
// that each call meets a cold cache, as a node's messages do), a bare
// PUBLISH (what the bare relay pays), a script with one key and one
// argument that only publishes (what starting a script costs), one that
// only publishes but takes the message script's 21 keys and arguments,
// a script that logs and publishes (what any logged message needs) and
// the shipped message script, in interleaved
// rounds, and prints Redis's own CPU per call (INFO cpu).
//
//	go run ./cmd/cohub-scriptcost                   # 3 rounds of 15 s at 1,000 calls/s
//	go run ./cmd/cohub-scriptcost --busy            # with one core kept busy, as under a load test
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redisproc"
)

type options struct {
	rate, rooms, rounds int
	each                time.Duration
	appendLua           string
	busy                bool
}

func main() {
	var o options
	flag.IntVar(&o.rate, "rate", 1000, "calls a second")
	flag.IntVar(&o.rooms, "rooms", 1000, "rooms the calls spread over")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds, each running every probe once")
	flag.DurationVar(&o.each, "each", 15*time.Second, "how long each probe runs in a round")
	flag.StringVar(&o.appendLua, "append", "rooms/redisstore/scripts/append.lua", "the message script")
	flag.BoolVar(&o.busy, "busy", false, "keep one core busy touching memory, as a load test's other processes do")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cohub-scriptcost:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	body, err := os.ReadFile(o.appendLua)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "cohub-scriptcost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := redisproc.Start(dir, "", false)
	if err != nil {
		return err
	}
	defer srv.Stop(syscall.SIGKILL)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if o.busy {
		stop := make(chan struct{})
		defer close(stop)
		go busy(stop)
	}
	b := &bench{rdb: rdb, rooms: o.rooms, probes: probes(string(body))}
	if err := b.setUp(ctx); err != nil {
		return err
	}
	defer b.sub.Close()
	sums := map[string]float64{}
	for round := 1; round <= o.rounds; round++ {
		for _, p := range b.probes {
			us, n, err := b.measure(ctx, p, o.rate, o.each)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			sums[p.name] += us
			fmt.Fprintf(out, "round %d  %-14s %6d calls  %6.1f µs of Redis CPU a call\n", round, p.name, n, us)
		}
	}
	for _, p := range b.probes {
		fmt.Fprintf(out, "mean     %-14s %6.1f µs (%.2f× publish)\n", p.name, sums[p.name]/float64(o.rounds), sums[p.name]/sums["publish"])
	}
	return nil
}

// busy touches a large buffer at a stride until stop closes.
func busy(stop <-chan struct{}) {
	buf := make([]byte, 64<<20)
	for i := 0; ; i = (i + 4099) % len(buf) {
		buf[i]++
		if i < 4099 {
			select {
			case <-stop:
				return
			default:
			}
		}
	}
}

// cpuSeconds is Redis's own CPU time so far.
func cpuSeconds(ctx context.Context, rdb *redis.Client) (float64, error) {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, l := range strings.Split(info, "\r\n") {
		name, v, ok := strings.Cut(l, ":")
		if ok && (name == "used_cpu_sys" || name == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total, nil
}
