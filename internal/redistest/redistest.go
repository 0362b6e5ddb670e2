// Package redistest gives tests a real redis-server: the one named by
// COHUB_TEST_REDIS, or a private one started on a free port. With CI set,
// a missing redis-server fails the test instead of skipping it.
package redistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/redisproc"
	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process owned by a test.
type Server struct {
	Addr    string
	proc    *redisproc.Proc
	persist bool
	extra   []string
	frozen  int // the process Freeze stopped
}

var (
	sharedOnce sync.Once
	sharedAddr string
	sharedErr  error
	prefixSeq  atomic.Int64
)

// Client returns a client of a shared server and a key prefix unique to
// this test, so tests never see each other's keys.
func Client(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	addr := os.Getenv("COHUB_TEST_REDIS")
	if addr == "" {
		sharedOnce.Do(func() {
			var s *Server
			dir, err := os.MkdirTemp("", "cohub-redis-")
			if err != nil {
				sharedErr = err
				return
			}
			s, sharedErr = start(dir, "", false)
			if s != nil {
				sharedAddr = s.Addr
			}
		})
		if sharedErr != nil {
			unavailable(t, sharedErr)
		}
		addr = sharedAddr
	}
	addr = strings.TrimPrefix(addr, "redis://")
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		unavailable(t, err)
	}
	prefix := fmt.Sprintf("t%d-%d-%s:", os.Getpid(), prefixSeq.Add(1), sanitize(t.Name()))
	return rdb, prefix
}

// Start runs a private redis-server for one test, which may stop and
// restart it; it is killed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start(t.TempDir(), "", true)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartCluster runs a private one-node Redis Cluster holding every slot:
// enough to prove that no command crosses slots (Redis refuses those with
// CROSSSLOT even on one node).
func StartCluster(t testing.TB) *Server {
	t.Helper()
	s, err := start(t.TempDir(), "", false, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(s.Stop)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	if err := rdb.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("cluster slots: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		info, err := rdb.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ready: %v %q", err, info)
		}
		time.Sleep(10 * time.Millisecond) // the cluster state has no event to await
	}
}

// Stop kills the server; its data survives in its folder for Restart.
func (s *Server) Stop() { s.proc.Stop(syscall.SIGKILL) }

// Restart starts the server again on the same port and folder.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.proc.Restart(syscall.SIGKILL, 0, s.persist, s.extra...); err != nil {
		t.Fatalf("restart redis: %v", err)
	}
}

// start runs redis-server in dir; persist keeps an fsynced append-only
// file so that a restart finds every write.
func start(dir, addr string, persist bool, extra ...string) (*Server, error) {
	p, err := redisproc.Start(dir, addr, persist, extra...)
	if err != nil {
		return nil, err
	}
	return &Server{Addr: p.Addr, proc: p, persist: persist, extra: extra}, nil
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("redis is required in CI: %v", err)
	}
	t.Skipf("redis unavailable: %v", err)
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '{' || r == '}' || r == ' ' {
			return '_'
		}
		return r
	}, filepath.Base(name))
}
