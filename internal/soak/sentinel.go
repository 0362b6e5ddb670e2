package soak

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redisproc"
)

const (
	masterName = "cohub"
	// downAfter is how long the sentinels wait before they call the
	// master down: short, so a failover takes seconds.
	downAfter = time.Second
)

// redisArgs are a node's flags to reach Redis: through its fault proxy,
// through the sentinels, or to the Redis Cluster's masters.
func (c *Cluster) redisArgs(n *Node) []string {
	if c.opt.Cluster {
		return []string{"--redis-cluster", strings.Join(c.seeds, ",")}
	}
	if !c.opt.Sentinel {
		return []string{"--redis", "redis://" + n.Proxy.Addr()}
	}
	var addrs []string
	for _, s := range c.Sentinels {
		addrs = append(addrs, s.Addr)
	}
	return []string{"--redis-sentinel", strings.Join(addrs, ","), "--redis-master", masterName}
}

// startSentinel runs a master, a replica in sync with it, and three
// sentinels that know both and each other.
func (c *Cluster) startSentinel(ctx context.Context) error {
	var err error
	if c.Redis, err = redisproc.Start(c.sub("redis-a"), "", true, "--repl-diskless-sync-delay", "0"); err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(c.Redis.Addr)
	if c.Replica, err = redisproc.Start(c.sub("redis-b"), "", true, "--replicaof", host, port, "--repl-diskless-sync-delay", "0"); err != nil {
		return err
	}
	if err := waitFor(ctx, time.Minute, func() bool { return replicaOnline(ctx, c.Redis.Addr, c.Replica.Addr) }); err != nil {
		return fmt.Errorf("replica not in sync: %w", err)
	}
	for i := range 3 {
		s, err := redisproc.StartSentinel(c.sub(fmt.Sprintf("sentinel-%d", i)), c.Redis.Addr, masterName, 2, downAfter)
		if err != nil {
			return err
		}
		c.Sentinels = append(c.Sentinels, s)
	}
	return waitFor(ctx, time.Minute, func() bool { return c.sentinelsReady(ctx) })
}

func (c *Cluster) sub(name string) string {
	dir := filepath.Join(c.opt.Dir, name)
	_ = os.MkdirAll(dir, 0o700)
	return dir
}

func replicaOnline(ctx context.Context, master, replica string) bool {
	rdb := redis.NewClient(&redis.Options{Addr: master})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "replication").Result()
	_, port, _ := net.SplitHostPort(replica)
	return err == nil && strings.Contains(info, "port="+port+",state=online")
}

// sentinelsReady: each sentinel knows the other two and the replica, so a
// failover can begin at once.
func (c *Cluster) sentinelsReady(ctx context.Context) bool {
	for _, s := range c.Sentinels {
		rdb := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
		peers, err1 := rdb.Sentinels(ctx, masterName).Result()
		reps, err2 := rdb.Replicas(ctx, masterName).Result()
		_ = rdb.Close()
		if err1 != nil || err2 != nil || len(peers) != len(c.Sentinels)-1 || len(reps) != 1 {
			return false
		}
	}
	return true
}

// master asks a sentinel which server is the master now.
func (c *Cluster) master(ctx context.Context) (string, error) {
	var last error
	for _, s := range c.Sentinels {
		rdb := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
		a, err := rdb.GetMasterAddrByName(ctx, masterName).Result()
		_ = rdb.Close()
		if err == nil {
			return net.JoinHostPort(a[0], a[1]), nil
		}
		last = err
	}
	return "", last
}

// failover kills the master; once the sentinels have promoted the
// replica, the old master comes back as the new one's replica.
func (c *Cluster) failover(ctx context.Context, pause time.Duration) (string, error) {
	old, err := c.master(ctx)
	if err != nil {
		return "", err
	}
	p := c.Redis
	if c.Replica.Addr == old {
		p = c.Replica
	}
	p.Stop(syscall.SIGKILL)
	var now string
	err = waitFor(ctx, time.Minute, func() bool {
		now, err = c.master(ctx)
		return err == nil && now != old
	})
	if err != nil {
		return "", fmt.Errorf("no master promoted: %w", err)
	}
	host, port, _ := net.SplitHostPort(now)
	return fmt.Sprintf("master %s → %s", old, now),
		p.Restart(syscall.SIGKILL, pause, true, "--replicaof", host, port, "--repl-diskless-sync-delay", "0")
}
