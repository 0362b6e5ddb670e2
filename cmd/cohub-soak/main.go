// Command cohub-soak runs Cohub under a seeded schedule of faults and
// checks, from what every participant saw, that nothing acknowledged was
// lost, duplicated or reordered and that presence neither flapped nor
// ghosted. It starts its own Redis and nodes on loopback, builds the
// binary from this checkout, writes a report and exits 1 on a violation.
//
//	go run ./cmd/cohub-soak --duration 5m --report soak-report.txt
//	go run ./cmd/cohub-soak --cluster --duration 3m   # Redis Cluster, a master failed over
//	go run ./cmd/cohub-soak --nginx --duration 3m     # clients through nginx (deploy/nginx.conf)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cohub/cohub/internal/soak"
)

type options struct {
	nodes, rooms int
	reminders    int
	every        time.Duration
	duration     time.Duration
	seed         uint64
	faults       string
	broken       bool
	bin          string
	report       string
	dir          string
	ttl, grace   time.Duration
	sentinel     bool
	cluster      bool
	nginx        bool
}

func main() {
	o, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cohub-soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	clean, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cohub-soak:", err)
		os.Exit(2)
	}
	if !clean {
		os.Exit(1)
	}
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("cohub-soak", flag.ContinueOnError)
	fs.IntVar(&o.nodes, "nodes", 3, "cohub nodes")
	fs.IntVar(&o.rooms, "rooms", 30, "rooms, each with an agent and a customer on different nodes (behind --nginx, nginx picks)")
	fs.IntVar(&o.reminders, "reminders", 5, "sessions nobody joins whose reminders the checker counts: each sent once through the faults (0: none)")
	fs.DurationVar(&o.every, "every", 500*time.Millisecond, "time between two messages of one participant")
	fs.DurationVar(&o.duration, "duration", 5*time.Minute, "how long the faults and traffic last (a drain follows)")
	fs.Uint64Var(&o.seed, "seed", uint64(time.Now().UnixNano()), "the nemesis schedule's seed (printed; give it again to repeat a run)")
	fs.StringVar(&o.faults, "faults", "", "fault kinds to use, comma separated (default: every kind of the topology); \"none\" for a calm run")
	fs.BoolVar(&o.sentinel, "sentinel", false, "Redis as a master and a replica watched by three sentinels (faults: "+strings.Join(soak.SentinelFaultKinds, ",")+")")
	fs.BoolVar(&o.cluster, "cluster", false, "Redis as a Redis Cluster of three masters, each with a replica (faults: "+strings.Join(soak.ClusterFaultKinds, ",")+")")
	fs.BoolVar(&o.nginx, "nginx", false, "put the nodes behind Debian's nginx running deploy/nginx.conf; clients dial nginx only")
	fs.BoolVar(&o.broken, "broken", false, "soak a build with gap filling compiled out (the checker must fail it)")
	fs.StringVar(&o.bin, "cohub-bin", "", "a cohub binary to soak instead of building this checkout")
	fs.StringVar(&o.report, "report", "", "also write the report to this file")
	fs.StringVar(&o.dir, "dir", "", "working folder for Redis data and node logs (default: a new temporary one, kept)")
	fs.DurationVar(&o.ttl, "presence-ttl", 10*time.Second, "the nodes' --presence-ttl")
	fs.DurationVar(&o.grace, "leave-grace", 3*time.Second, "the nodes' --leave-grace")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.faults == "" {
		o.faults = strings.Join(soak.FaultKinds, ",")
		if o.sentinel {
			o.faults = strings.Join(soak.SentinelFaultKinds, ",")
		}
		if o.cluster {
			o.faults = strings.Join(soak.ClusterFaultKinds, ",")
		}
	}
	switch {
	case o.sentinel && o.cluster:
		return o, fmt.Errorf("--sentinel and --cluster are two topologies: choose one")
	case o.nodes < 2:
		return o, fmt.Errorf("--nodes must be 2 or more (agents and customers sit on different nodes)")
	case o.rooms < 1:
		return o, fmt.Errorf("--rooms must be 1 or more")
	case o.reminders < 0:
		return o, fmt.Errorf("--reminders must be 0 or more")
	case o.every < 100*time.Millisecond:
		return o, fmt.Errorf("--every must be 100ms or more (a sender may post 10 messages a second)")
	case o.ttl <= 3*time.Second:
		return o, fmt.Errorf("--presence-ttl must be over 3s")
	}
	_, err := faultKinds(o.faults)
	return o, err
}

func faultKinds(s string) ([]string, error) {
	if s == "none" || s == "" {
		return nil, nil
	}
	known := map[string]bool{}
	for _, k := range slices.Concat(soak.FaultKinds, soak.SentinelFaultKinds, soak.ClusterFaultKinds) {
		known[k] = true
	}
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); !known[k] {
			return nil, fmt.Errorf("unknown fault %q", k)
		}
		out = append(out, k)
	}
	return out, nil
}

// run soaks and reports whether the verdict is clean.
func run(ctx context.Context, o options, out io.Writer) (bool, error) {
	dir := o.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "cohub-soak-"); err != nil {
			return false, err
		}
	}
	bin := o.bin
	if bin == "" {
		var err error
		if bin, err = soak.Build(ctx, ".", dir, o.broken); err != nil {
			return false, err
		}
	}
	kinds, _ := faultKinds(o.faults)
	header := fmt.Sprintf("cohub-soak: %d nodes, %d rooms, a message every %s per participant, %s, seed %d, faults %s, sentinel=%v, cluster=%v, nginx=%v, broken=%v, logs in %s\n",
		o.nodes, o.rooms, o.every, o.duration, o.seed, o.faults, o.sentinel, o.cluster, o.nginx, o.broken, dir)
	fmt.Fprint(out, header)
	cfg := soak.Config{Bin: bin, Dir: dir, Nodes: o.nodes, Rooms: o.rooms, Every: o.every,
		Duration: o.duration, Seed: o.seed, Faults: kinds, TTL: o.ttl, Grace: o.grace, Sentinel: o.sentinel, Cluster: o.cluster,
		Reminders: o.reminders, Log: out}
	if o.nginx {
		cfg.Nginx = filepath.Join(".", "deploy", "nginx.conf")
	}
	rec, err := soak.Run(ctx, cfg)
	if err != nil {
		return false, err
	}
	v := soak.Check(rec)
	report := soak.Report(rec, v, 10)
	fmt.Fprint(out, report)
	if o.report != "" {
		// The header too: a report says which topology it judged.
		if err := os.WriteFile(o.report, []byte(header+report), 0o644); err != nil {
			return false, err
		}
	}
	return v.Clean(), nil
}
