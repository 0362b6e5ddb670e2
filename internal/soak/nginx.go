package soak

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/cohub/cohub/internal/lbconf"
)

// nginxConnections is each worker's connection limit: every WebSocket is
// two descriptors in nginx, so a thousand rooms (two sockets each) fit.
const nginxConnections = 4096

// front is Debian's nginx running deploy/nginx.conf itself in front of
// the nodes, with only its addresses rendered (as deploy's tests do), in
// the foreground with every path it writes under its own folder.
type front struct {
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// URL is the address clients dial.
func (f *front) URL() string { return "http://" + f.Addr }

// startFront renders the file at confPath for addr and the nodes, checks
// it with nginx -t, starts nginx and waits until it answers /readyz
// through a node.
func startFront(ctx context.Context, confPath, dir, addr string, nodes []*Node) (*front, error) {
	bin, err := lbconf.Bin("nginx")
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(confPath)
	if err != nil {
		return nil, err
	}
	port, err := portOf(addr)
	if err != nil {
		return nil, err
	}
	var upstreams []int
	for _, n := range nodes {
		p, err := portOf(n.Addr)
		if err != nil {
			return nil, err
		}
		upstreams = append(upstreams, p)
	}
	conf, err := lbconf.Nginx(string(src), port, upstreams, dir, nil)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "cohub.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	main := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(main, []byte(lbconf.NginxMain(dir, nginxConnections)), 0o600); err != nil {
		return nil, err
	}
	args := []string{"-p", dir, "-c", main, "-e", filepath.Join(dir, "error.log")}
	if out, err := exec.Command(bin, append(args, "-t")...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx refuses its configuration: %v\n%s", err, out)
	}
	return runFront(ctx, bin, args, dir, addr)
}

func runFront(ctx context.Context, bin string, args []string, dir, addr string) (*front, error) {
	logf, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return nil, err
	}
	f := &front{Addr: addr, dir: dir, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	f.cmd.Stdout, f.cmd.Stderr = logf, logf
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := f.cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, err
	}
	go func() { _ = f.cmd.Wait(); _ = logf.Close(); close(f.done) }()
	if err := waitReady(ctx, f.URL()+"/readyz", 30*time.Second); err != nil {
		f.stop()
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return nil, fmt.Errorf("nginx: %w\n%s", err, log)
	}
	return f, nil
}

// stop asks nginx for a fast shutdown (its workers end with it) and
// kills it if that takes too long.
func (f *front) stop() {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
}

func portOf(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(p)
}
