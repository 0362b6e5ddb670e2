// Package deploy tests the deployment files as they are shipped: nginx
// runs deploy/nginx.conf itself (only its addresses rendered for the
// test) in front of cohub nodes that are real processes of the built
// binary, on one private Redis; compose.yaml is checked against the
// flags the binary accepts.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/lbconf"
	"github.com/cohub/cohub/internal/redistest"
)

const (
	testSecret    = "deploy-test-secret-0123456789"
	adminEmail    = "admin@cohub.test"
	adminPassword = "admin-password-0123"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// cohubBinary builds cmd/cohub once per test run, as a deployment runs it.
func cohubBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "cohub-deploy-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "cohub")
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if p, err := exec.LookPath("go"); err == nil {
			goBin = p
		}
		out, err := exec.Command(goBin, "build", "-o", binPath, "github.com/cohub/cohub/cmd/cohub").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// need finds a Debian program the test runs; with CI set its absence
// fails the test (.ci/run installs it), otherwise it skips.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := lbconf.Bin(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI (apt-get install %s)", name, name)
	}
	t.Skip(err)
	return ""
}

// handedOut are the ports freePort gave: a port is closed again before
// its process binds it, so the kernel may offer it twice (once it gave
// nginx's port to a node as well).
var handedOut sync.Map

// freePort is a loopback port nothing listens on now and that this test
// binary has not handed out before.
func freePort(t *testing.T) int {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if _, taken := handedOut.LoadOrStore(port, true); !taken {
			return port
		}
	}
}

// node is one cohub process; it may be stopped and started again on
// the same port.
type node struct {
	t    *testing.T
	name string
	// port 0 at the first start lets the node bind one the kernel picks
	// (read back from its "cohub listening" line): a port picked free
	// beforehand can be taken by another test's connection meanwhile.
	port int
	args []string

	cmd   *exec.Cmd
	done  chan struct{} // closed when the process has exited
	mu    sync.Mutex
	lines []string // stderr of every run, for failure reports
	ready chan struct{}
}

func (n *node) addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

// start runs the process and waits for its "cohub listening" line.
func (n *node) start() {
	t := n.t
	t.Helper()
	n.cmd = exec.Command(cohubBinary(t), append([]string{"--addr", n.addr()}, n.args...)...)
	n.cmd.Dir = t.TempDir() // a node without Redis keeps its ./cohub-data there, not in the repository
	// Only the flags given count, not a COHUB_* setting of the shell.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COHUB_") {
			n.cmd.Env = append(n.cmd.Env, kv)
		}
	}
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.done, n.ready = make(chan struct{}), make(chan struct{})
	go n.read(stderr, n.ready, n.done)
	select {
	case <-n.ready:
	case <-n.done:
		t.Fatalf("%s exited at start:\n%s", n.name, n.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not listening after 30s:\n%s", n.name, n.logs())
	}
}

func (n *node) read(stderr io.Reader, ready, done chan struct{}) {
	cmd := n.cmd
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	signalled := false
	for sc.Scan() {
		n.mu.Lock()
		n.lines = append(n.lines, n.name+": "+sc.Text())
		n.mu.Unlock()
		if !signalled && strings.Contains(sc.Text(), `"cohub listening"`) {
			n.port = listeningPort(sc.Text(), n.port)
			close(ready)
			signalled = true
		}
	}
	_ = cmd.Wait()
	close(done)
}

// listeningPort is the port of a "cohub listening" log line's addr, or
// port when the line has none.
func listeningPort(line string, port int) int {
	var l struct {
		Addr string `json:"addr"`
	}
	_ = json.Unmarshal([]byte(line), &l) // a line without addr leaves it "", refused below
	if _, p, err := net.SplitHostPort(l.Addr); err == nil {
		if got, err := strconv.Atoi(p); err == nil {
			return got
		}
	}
	return port
}

// stop sends SIGTERM, as an orchestrator does, and returns the exit code.
func (n *node) stop() int {
	t := n.t
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal %s: %v", n.name, err)
	}
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		t.Fatalf("%s did not exit within 20s of SIGTERM:\n%s", n.name, n.logs())
	}
	return n.cmd.ProcessState.ExitCode()
}

func (n *node) kill() {
	if n.cmd == nil || n.done == nil {
		return
	}
	select {
	case <-n.done:
	default:
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

func (n *node) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.lines, "\n")
}

// cluster is three nodes on one Redis behind a load balancer running
// its file from deploy/.
type cluster struct {
	t     *testing.T
	redis *redistest.Server
	nodes []*node
	front *balancer
	base  string // http://127.0.0.1:PORT, the balancer
}

// newCluster starts Redis, three nodes given extra flags, and the
// balancer ("nginx" or "haproxy").
func newCluster(t *testing.T, lb string, extra ...string) *cluster {
	t.Helper()
	bin := need(t, lb)
	c := &cluster{t: t, redis: redistest.Start(t)}
	front := freePort(t)
	c.base = fmt.Sprintf("http://127.0.0.1:%d", front)
	for i := range 3 {
		n := &node{t: t, name: fmt.Sprintf("cohub%d", i+1)}
		n.args = append([]string{"--redis", "redis://" + c.redis.Addr, "--secret", testSecret,
			"--public-url", c.base, "--admin-email", adminEmail, "--admin-password", adminPassword,
			"--log-format", "json", "--log-level", "info"}, extra...)
		c.nodes = append(c.nodes, n)
		t.Cleanup(n.kill)
	}
	for _, n := range c.nodes {
		n.start()
	}
	var upstreams []int
	for _, n := range c.nodes {
		upstreams = append(upstreams, n.port)
	}
	if lb == "haproxy" {
		c.front = startHAProxy(t, bin, renderHAProxy(t, front, upstreams))
	} else {
		c.front = startNginx(t, bin, renderNginx(t, front, upstreams, nil))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.nodes {
				t.Log(lastLines(n.logs(), 40))
			}
			t.Logf("%s's log:\n%s", lb, lastLines(c.front.logs(), 40))
		}
	})
	return c
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// balancer is a foreground nginx or HAProxy with every path of its own
// in a temporary folder.
type balancer struct {
	dir  string
	log  string // its error log
	cmd  *exec.Cmd
	done chan struct{}
}

func (b *balancer) logs() string {
	out, _ := os.ReadFile(b.log)
	return string(out)
}

// run checks the configuration (check: the balancer's own test
// arguments), starts it, stops it when the test ends, and returns once
// it accepts on addr.
func runBalancer(t *testing.T, b *balancer, bin string, args, check []string, addr string) *balancer {
	t.Helper()
	if out, err := exec.Command(bin, append(args, check...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s refuses its configuration: %v\n%s", filepath.Base(bin), err, out)
	}
	logf, err := os.Create(filepath.Join(b.dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(bin, args...)
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); _ = logf.Close(); close(b.done) }()
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
		}
	})
	// Neither says when it is ready: try its port until it answers.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return b
		}
		select {
		case <-b.done:
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s exited: %s\n%s", filepath.Base(bin), out, b.logs())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not accepting on %s after 10s:\n%s", filepath.Base(bin), addr, b.logs())
		}
	}
}

// renderNginx is deploy/nginx.conf with the test's addresses: the listen
// port and the three upstream servers (its own error log in a temporary
// folder). edit, when set, changes one more
// directive's value (the test of a shorter timeout).
func renderNginx(t *testing.T, front int, upstreams []int, edit map[string]string) string {
	t.Helper()
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	out, err := lbconf.Nginx(string(conf), front, upstreams, t.TempDir(), edit)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startNginx runs conf (a conf.d file, as deploy/nginx.conf is) inside a
// main configuration of the test's own: foreground, one worker, every
// path in a temporary folder.
func startNginx(t *testing.T, bin, conf string) *balancer {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cohub.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(lbconf.NginxMain(dir, 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &balancer{dir: dir, log: filepath.Join(dir, "error.log"), done: make(chan struct{})}
	args := []string{"-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", b.log}
	return runBalancer(t, b, bin, args, []string{"-t"}, listenAddr(conf))
}

// renderHAProxy is deploy/haproxy.cfg with the test's addresses.
func renderHAProxy(t *testing.T, front int, upstreams []int) string {
	t.Helper()
	conf, err := os.ReadFile("haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	out, err := lbconf.HAProxy(string(conf), front, upstreams)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startHAProxy runs conf in the foreground.
func startHAProxy(t *testing.T, bin, conf string) *balancer {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &balancer{dir: dir, log: filepath.Join(dir, "stderr.log"), done: make(chan struct{})}
	addr := regexp.MustCompile(`bind\s+([0-9.]+:[0-9]+)`).FindStringSubmatch(conf)
	if addr == nil {
		t.Fatal("no bind address")
	}
	return runBalancer(t, b, bin, []string{"-db", "-f", path}, []string{"-c"}, addr[1])
}

func listenAddr(conf string) string {
	m := regexp.MustCompile(`listen\s+([0-9.]+:[0-9]+);`).FindStringSubmatch(conf)
	if m == nil {
		return ""
	}
	return m[1]
}

// call makes one JSON request through nginx; hc nil is the default client.
func call(t *testing.T, hc *http.Client, method, url, auth string, body, into any, header http.Header) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil && res.StatusCode < 300 {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

// login signs in through base and returns the token.
func login(t *testing.T, hc *http.Client, base, email, password string) (string, int) {
	t.Helper()
	var out struct{ Token string }
	code := call(t, hc, "POST", base+"/api/login", "", map[string]string{"email": email, "password": password}, &out, nil)
	return out.Token, code
}

// from is an HTTP client whose connections come from a loopback address
// of its own (127.0.0.2, …): a client nginx sees as another machine.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}
