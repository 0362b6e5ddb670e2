// Package redistest gives tests a real redis-server: the one named by
// COHUB_TEST_REDIS, or a private one started on a free port. With CI set,
// a missing redis-server fails the test instead of skipping it.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process owned by a test.
type Server struct {
	Addr  string
	dir   string
	cmd   *exec.Cmd
	extra []string // the arguments it was started with, for Restart
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
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port and folder.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	ns, err := start(s.dir, s.Addr, true, s.extra...)
	if err != nil {
		t.Fatalf("restart redis: %v", err)
	}
	s.cmd = ns.cmd
}

// start runs redis-server in dir; persist keeps an fsynced append-only
// file so that a restart finds every write.
func start(dir, addr string, persist bool, extra ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found: %w", err)
	}
	if addr == "" {
		if addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	_, port, _ := net.SplitHostPort(addr)
	aof := "no"
	if persist {
		aof = "yes"
	}
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", aof, "--appendfsync", "always",
		// A replica syncs at once, not after Redis's 5 s wait for others.
		"--repl-diskless-sync-delay", "0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(out); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	go drain(out)
	return &Server{Addr: addr, dir: dir, cmd: cmd, extra: extra}, nil
}

func waitReady(out interface{ Read([]byte) (int, error) }) error {
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				done <- nil
				return
			}
		}
		done <- fmt.Errorf("redis-server exited before it was ready")
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return fmt.Errorf("redis-server not ready after 10s")
	}
}

func drain(out interface{ Read([]byte) (int, error) }) {
	buf := make([]byte, 4096)
	for {
		if _, err := out.Read(buf); err != nil {
			return
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
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
