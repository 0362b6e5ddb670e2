package redistest

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redisproc"
)

// The topologies a deployment outgrows one Redis with: a master with a
// replica watched by Sentinels, and a Redis Cluster with a replica per
// master. Their timeouts are short (a second to call a server down) so
// that a failover test takes seconds, not the defaults' half minute.

// NodeTimeout is how long Sentinel and Cluster wait before they call a
// server down.
const NodeTimeout = time.Second

// StartReplica runs a replica of master and waits until it is in sync.
func StartReplica(t testing.TB, master *Server) *Server {
	t.Helper()
	host, port, _ := strings.Cut(master.Addr, ":")
	// The master syncs a replica at once, not after Redis's 5 s wait for
	// others to join the transfer.
	mrdb := redis.NewClient(&redis.Options{Addr: master.Addr})
	err := mrdb.ConfigSet(context.Background(), "repl-diskless-sync-delay", "0").Err()
	_ = mrdb.Close()
	must(t, err)
	s, err := start(t.TempDir(), "", false, "--replicaof", host, port)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(s.Stop)
	// In sync once the master counts it online (its first ack came).
	rdb := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer rdb.Close()
	eventually(t, "the replica to sync", func() bool {
		info, err := rdb.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "port="+strings.TrimPrefix(s.Addr, "127.0.0.1:")+",state=online")
	})
	return s
}

// Sentinels watch one master under Name.
type Sentinels struct {
	Name  string
	Addrs []string
}

// StartSentinels runs n sentinels (quorum n/2+1) watching master, and
// waits until each knows the master's replicas and the other sentinels,
// so that a failover can start at once.
func StartSentinels(t testing.TB, master *Server, replicas, n int) *Sentinels {
	t.Helper()
	ss := &Sentinels{Name: "cohub"}
	for range n {
		p, err := redisproc.StartSentinel(t.TempDir(), master.Addr, ss.Name, n/2+1, NodeTimeout)
		if err != nil {
			unavailable(t, err)
		}
		t.Cleanup(func() { p.Stop(syscall.SIGKILL) })
		ss.Addrs = append(ss.Addrs, p.Addr)
	}
	for _, addr := range ss.Addrs {
		rdb := redis.NewSentinelClient(&redis.Options{Addr: addr})
		eventually(t, "sentinel "+addr+" to know its peers and replicas", func() bool {
			ctx := context.Background()
			peers, err1 := rdb.Sentinels(ctx, ss.Name).Result()
			reps, err2 := rdb.Replicas(ctx, ss.Name).Result()
			return err1 == nil && err2 == nil && len(peers) == n-1 && len(reps) == replicas
		})
		_ = rdb.Close()
	}
	return ss
}

// Master asks a sentinel which server is the master now.
func (ss *Sentinels) Master(ctx context.Context) (string, error) {
	rdb := redis.NewSentinelClient(&redis.Options{Addr: ss.Addrs[0]})
	defer rdb.Close()
	a, err := rdb.GetMasterAddrByName(ctx, ss.Name).Result()
	if err != nil {
		return "", err
	}
	return a[0] + ":" + a[1], nil
}

// Cluster is a Redis Cluster on loopback: masters and their replicas.
type Cluster struct {
	Addrs []string
	proc  *redisproc.Cluster
}

// StartShardedCluster runs a Redis Cluster of masters×(1+replicas)
// servers, created by redis-cli as an operator would, and waits until
// every node sees it whole. A down master stops only its own slots
// (cluster-require-full-coverage no).
func StartShardedCluster(t testing.TB, masters, replicas int) *Cluster {
	t.Helper()
	p, err := redisproc.StartCluster(context.Background(), t.TempDir(), masters, replicas, NodeTimeout, false)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			unavailable(t, err)
		}
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &Cluster{Addrs: p.Addrs, proc: p}
}

// WaitHealthy waits until every running node says the cluster is ok and
// agrees on who serves every slot, and every master has its replicas.
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	must(t, c.proc.WaitHealthy(context.Background(), 30*time.Second))
}

// Masters lists the running masters' addresses, as a running node sees them.
func (c *Cluster) Masters(t testing.TB) []string {
	t.Helper()
	m, err := c.proc.Masters(context.Background())
	must(t, err)
	return m
}

// Kill kills the server at addr, as a crash would.
func (c *Cluster) Kill(addr string) { c.proc.Kill(addr) }

// Slot is the hash slot of key.
func (c *Cluster) Slot(t testing.TB, key string) int {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: c.Masters(t)[0]})
	defer rdb.Close()
	n, err := rdb.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// Owner is the master serving slot, as a running node sees it.
func (c *Cluster) Owner(t testing.TB, slot int) string {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: c.Masters(t)[0]})
	defer rdb.Close()
	slots, err := rdb.ClusterSlots(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if int(s.Start) <= slot && slot <= int(s.End) {
			return s.Nodes[0].Addr
		}
	}
	t.Fatalf("no master serves slot %d", slot)
	return ""
}

// MigrateSlot moves slot's keys from one master to another while it
// serves traffic, as redis-cli --cluster reshard does, and hands the
// slot over.
func (c *Cluster) MigrateSlot(t testing.TB, slot int, from, to string) {
	t.Helper()
	c.MigrateSlotHeld(t, slot, from, to)()
}

// MigrateSlotHeld moves slot's keys as MigrateSlot does but leaves the
// slot migrating (commands on its keys are answered ASK) until the
// returned func hands it over.
func (c *Cluster) MigrateSlotHeld(t testing.TB, slot int, from, to string) (handOver func()) {
	t.Helper()
	ctx := context.Background()
	src := redis.NewClient(&redis.Options{Addr: from})
	dst := redis.NewClient(&redis.Options{Addr: to})
	defer src.Close()
	defer dst.Close()
	srcID, err := src.Do(ctx, "CLUSTER", "MYID").Text()
	must(t, err)
	dstID, err := dst.Do(ctx, "CLUSTER", "MYID").Text()
	must(t, err)
	must(t, dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err())
	must(t, src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err())
	host, port, _ := strings.Cut(to, ":")
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, slot, 10).Result()
		must(t, err)
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(t, src.Do(ctx, args...).Err())
	}
	return func() {
		t.Helper()
		for _, m := range c.Masters(t) {
			rdb := redis.NewClient(&redis.Options{Addr: m})
			must(t, rdb.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
			_ = rdb.Close()
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds: the states awaited here (a
// replica's sync, a sentinel's discovery, a cluster's agreement) have no
// event a client can wait on.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Freeze stops the server's process (SIGSTOP) without closing its
// connections, as a stalled machine would: a master still counts a frozen
// replica as online, but it acknowledges nothing. Thaw resumes it.
func (s *Server) Freeze(t testing.TB) {
	t.Helper()
	pid := s.pid(t)
	must(t, syscall.Kill(pid, syscall.SIGSTOP))
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	s.frozen = pid
}

// Thaw resumes a frozen server.
func (s *Server) Thaw(t testing.TB) {
	t.Helper()
	must(t, syscall.Kill(s.frozen, syscall.SIGCONT))
}

// pid asks the server for its process id.
func (s *Server) pid(t testing.TB) int {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	info, err := rdb.Info(context.Background(), "server").Result()
	must(t, err)
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			must(t, err)
			return pid
		}
	}
	t.Fatal("redis INFO has no process_id")
	return 0
}
