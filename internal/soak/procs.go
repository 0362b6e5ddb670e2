package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/cohub/cohub/internal/faultproxy"
	"github.com/cohub/cohub/internal/redisproc"
)

// Build compiles the cohub binary from the module at root into dir; with
// broken, gap filling is compiled out (the soakbroken tag), the build the
// checker must catch.
func Build(ctx context.Context, root, dir string, broken bool) (string, error) {
	bin := filepath.Join(dir, "cohub")
	args := []string{"build", "-o", bin}
	if broken {
		args = append(args, "-tags", "soakbroken")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/cohub")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build cohub: %v\n%s", err, out)
	}
	return bin, nil
}

// Options shape a cluster.
type Options struct {
	Bin         string // the cohub binary
	Dir         string // working folder: Redis data and node logs
	Nodes       int
	PresenceTTL time.Duration
	LeaveGrace  time.Duration
	// Sentinel runs Redis as a master and a replica watched by three
	// sentinels, and the nodes find the master through them (no fault
	// proxy: the sentinels hand out the servers' own addresses).
	Sentinel bool
	// Cluster runs Redis as a Redis Cluster of three masters, each with
	// a replica, and the nodes are given the masters (no fault proxy
	// either: the cluster hands out the servers' own addresses).
	Cluster bool
	// Nginx, when set, is deploy/nginx.conf's path: the nodes stand
	// behind Debian's nginx configured from that file, and clients dial
	// nginx only. Independent of the Redis topology.
	Nginx string
}

// Soak identity: one admin who creates the sessions and is every room's
// agent.
const (
	AdminEmail    = "soak@example.org"
	adminPassword = "soak-password-2026"
	secret        = "soak-link-secret-0123456789"
)

// Cluster is a Redis (an fsynced append-only file: a restart, even after
// a kill, loses nothing acknowledged) and N cohub nodes, each talking to
// Redis through its own fault proxy.
type Cluster struct {
	opt   Options
	Redis *redisproc.Proc
	Nodes []*Node
	// With Options.Sentinel: the second server and the sentinels.
	Replica   *redisproc.Proc
	Sentinels []*redisproc.Proc
	// With Options.Cluster: the Redis Cluster, and the masters the
	// nodes were given at first.
	Shards *redisproc.Cluster
	seeds  []string
	// With Options.Nginx: nginx in front of the nodes.
	front *front
}

// Node is one cohub process.
type Node struct {
	Index int
	Addr  string
	Proxy *faultproxy.Proxy
	// public is the URL clients reach it at: nginx's, when in front.
	public string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
}

// URL is the node's base URL.
func (n *Node) URL() string { return "http://" + n.Addr }

// StartCluster starts Redis and the nodes, and nginx in front of them
// when asked, and waits until every node is ready.
func StartCluster(ctx context.Context, opt Options) (*Cluster, error) {
	c := &Cluster{opt: opt}
	var err error
	switch {
	case opt.Sentinel:
		err = c.startSentinel(ctx)
	case opt.Cluster:
		err = c.startRedisCluster(ctx)
	default:
		c.Redis, err = redisproc.Start(opt.Dir, "", true)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	// The nodes are told nginx's URL as theirs, so its port comes first.
	var frontAddr string
	if opt.Nginx != "" {
		if frontAddr, err = redisproc.FreeAddr(); err != nil {
			c.Close()
			return nil, err
		}
	}
	for i := range opt.Nodes {
		n, err := c.newNode(i)
		if err == nil && opt.Nginx != "" {
			n.public = "http://" + frontAddr
		}
		if err == nil {
			err = c.Start(ctx, n)
		}
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	if opt.Nginx != "" {
		if c.front, err = startFront(ctx, opt.Nginx, filepath.Join(opt.Dir, "nginx"), frontAddr, c.Nodes); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Cluster) newNode(i int) (*Node, error) {
	addr, err := redisproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	if c.opt.Sentinel || c.opt.Cluster {
		return &Node{Index: i, Addr: addr}, nil
	}
	p, err := faultproxy.New(c.Redis.Addr)
	if err != nil {
		return nil, err
	}
	return &Node{Index: i, Addr: addr, Proxy: p}, nil
}

// Start runs the node's process and waits for /readyz.
func (c *Cluster) Start(ctx context.Context, n *Node) error {
	logf, err := os.OpenFile(filepath.Join(c.opt.Dir, fmt.Sprintf("node-%d.log", n.Index)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.opt.Bin, append(c.redisArgs(n), c.nodeArgs(n)...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return err
	}
	n.mu.Lock()
	n.cmd, n.log = cmd, logf
	n.mu.Unlock()
	return waitReady(ctx, n.URL()+"/readyz", time.Minute)
}

// nodeArgs are a node's flags but those that reach Redis.
func (c *Cluster) nodeArgs(n *Node) []string {
	public := n.URL()
	var extra []string
	if n.public != "" {
		// nginx is the only peer the nodes see: believe its
		// X-Forwarded-For, as deploy/ tells operators to.
		public, extra = n.public, []string{"--trusted-proxies", "127.0.0.1/32"}
	}
	return append([]string{"--addr", n.Addr,
		"--secret", secret, "--public-url", public, "--admin-email", AdminEmail, "--admin-password", adminPassword,
		"--demo=false", "--log-format", "json", "--log-level", "warn",
		"--presence-ttl", c.opt.PresenceTTL.String(), "--leave-grace", c.opt.LeaveGrace.String(),
		"--followup-min-delay", followupMinDelay.String(), "--followup-poll", followupPoll.String()}, extra...)
}

// Stop signals the node (SIGKILL or SIGTERM) and waits for it to exit.
func (c *Cluster) Stop(n *Node, sig syscall.Signal) {
	n.mu.Lock()
	cmd, logf := n.cmd, n.log
	n.cmd, n.log = nil, nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	_ = cmd.Wait()
	_ = logf.Close()
}

// Close stops everything.
func (c *Cluster) Close() {
	if c.front != nil {
		c.front.stop()
	}
	for _, n := range c.Nodes {
		c.Stop(n, syscall.SIGKILL)
		if n.Proxy != nil {
			n.Proxy.Close()
		}
	}
	for _, p := range append([]*redisproc.Proc{c.Redis, c.Replica}, c.Sentinels...) {
		if p != nil {
			p.Stop(syscall.SIGKILL)
		}
	}
	if c.Shards != nil {
		c.Shards.Stop()
	}
}

// ClientURLs are what clients dial: nginx alone when it is in front,
// otherwise the nodes.
func (c *Cluster) ClientURLs() []string {
	if c.front != nil {
		return []string{c.front.URL()}
	}
	return c.URLs()
}

// URLs lists the nodes' base URLs in node order.
func (c *Cluster) URLs() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.URL())
	}
	return out
}

var errNotReady = errors.New("not ready")

// waitReady polls a readiness URL: a process that just started has no
// event to await but its port.
func waitReady(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		res, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s after %s (%v)", errNotReady, url, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
