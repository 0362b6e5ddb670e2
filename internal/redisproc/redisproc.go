// Package redisproc runs a redis-server process on loopback: for tests
// (internal/redistest) and the soak (internal/soak), which stop and start
// it on purpose.
package redisproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one redis-server.
type Proc struct {
	Addr string
	Dir  string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start runs redis-server with its data and its log (redis.log) in dir,
// on addr (empty: a free port). With persist, every write goes to an append-only file fsynced
// at once, so a restart, even after a kill, finds every acknowledged
// write. extra are more redis-server arguments.
func Start(dir, addr string, persist bool, extra ...string) (*Proc, error) {
	if addr != "" {
		return startOn(dir, addr, persist, extra...)
	}
	// A port free when asked may be taken before the server binds it (or,
	// for a Cluster node, its bus port, 10000 above, may be): a server
	// that exits before it is ready tries again on another.
	var err error
	for range 3 {
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
		var p *Proc
		if p, err = startOn(dir, addr, persist, extra...); !errors.Is(err, errExited) {
			return p, err
		}
	}
	return nil, err
}

// errExited is a server that exited before it was ready.
var errExited = errors.New("redis-server exited before it was ready")

func startOn(dir, addr string, persist bool, extra ...string) (*Proc, error) {
	_, port, _ := net.SplitHostPort(addr)
	aof := "no"
	if persist {
		aof = "yes"
	}
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", aof, "--appendfsync", "always"}, extra...)
	return launch(dir, addr, "Ready to accept connections", args...)
}

// StartSentinel runs a sentinel with its configuration in dir, watching
// master under name; it calls a server down after downAfter, and a
// failover needs quorum sentinels to agree. Each of extra is one more
// line of its configuration.
func StartSentinel(dir, master, name string, quorum int, downAfter time.Duration, extra ...string) (*Proc, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(master)
	_, sport, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\n"+
		"sentinel monitor %s %s %s %d\n"+
		"sentinel down-after-milliseconds %[3]s %[7]d\n"+
		"sentinel failover-timeout %[3]s %[8]d\n"+
		"sentinel parallel-syncs %[3]s 1\n",
		sport, dir, name, host, port, quorum, downAfter.Milliseconds(), 3*downAfter.Milliseconds())
	for _, line := range extra {
		body += line + "\n"
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, err
	}
	return launch(dir, addr, "+monitor master", conf, "--sentinel")
}

// launch runs redis-server with args and waits for ready in its output.
func launch(dir, addr, ready string, args ...string) (*Proc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, err
	}
	if err := waitReady(out, logf, ready); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return &Proc{Addr: addr, Dir: dir, cmd: cmd}, nil
}

// Stop signals the server (SIGTERM shuts it down cleanly, SIGKILL does
// not) and waits for it to exit.
func (p *Proc) Stop(sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	_ = cmd.Wait()
}

// Restart stops the server with sig, waits pause, and starts it again on
// the same address and data.
func (p *Proc) Restart(sig syscall.Signal, pause time.Duration, persist bool, extra ...string) error {
	p.Stop(sig)
	time.Sleep(pause) // the outage itself
	n, err := Start(p.Dir, p.Addr, persist, extra...)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.cmd = n.cmd
	p.mu.Unlock()
	return nil
}

// waitReady copies the server's output to its log until marker shows it
// ready, and after, so the server never blocks on a full pipe. A
// server loading a long append-only file on a busy machine takes a while.
func waitReady(out io.Reader, log io.WriteCloser, marker string) error {
	done := make(chan error, 1)
	go func() {
		defer log.Close()
		sc := bufio.NewScanner(out)
		ready := false
		for sc.Scan() {
			_, _ = fmt.Fprintln(log, sc.Text())
			if !ready && strings.Contains(sc.Text(), marker) {
				ready = true
				done <- nil
			}
		}
		if !ready {
			done <- errExited
		}
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		return fmt.Errorf("redis-server not ready after 60s")
	}
}

// FreeAddr is a loopback address with a port free at the time of asking.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
