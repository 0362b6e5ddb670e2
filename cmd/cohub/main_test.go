package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/internal/wsclient"
)

// TestMain lets a test run the binary's main in a child process: this
// test binary, started again with COHUB_TEST_MAIN set, so exit codes and
// everything written to stderr (go-redis's own lines too) can be checked.
func TestMain(m *testing.M) {
	if os.Getenv("COHUB_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is cohub's main running in another process.
type child struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	lines  chan string // stderr, line by line; closed at its end
	mu     sync.Mutex
	stderr []string
}

func startMain(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], args...), stdout: &syncBuffer{}, lines: make(chan string, 1000)}
	// Only the flags given count: a COHUB_* setting of the developer's
	// shell must not change what the test runs.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COHUB_") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	c.cmd.Env = append(c.cmd.Env, "COHUB_TEST_MAIN=1", "TMPDIR="+t.TempDir())
	c.cmd.Dir = t.TempDir() // where the default ./cohub-data goes
	c.cmd.Stdout = c.stdout
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.cmd.Process.Kill() })
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr = append(c.stderr, sc.Text())
			c.mu.Unlock()
			c.lines <- sc.Text()
		}
	}()
	return c
}

// await returns the first stderr line (from here on) that contains s.
func (c *child) await(t *testing.T, s string) string {
	t.Helper()
	// A bound, not a measure: a race-instrumented start on a loaded
	// machine (bcrypt for the demo logins, the derived signing key, the
	// embedded store's fsyncs) has taken over 20 s.
	timeout := time.After(90 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("cohub ended before writing %q:\n%s", s, c.allStderr())
			}
			if strings.Contains(line, s) {
				return line
			}
		case <-timeout:
			t.Fatalf("no %q in:\n%s", s, c.allStderr())
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for range c.lines { // stderr is read to its end before Wait closes it
		}
		done <- c.cmd.Wait()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		t.Fatalf("cohub did not exit:\n%s", c.allStderr())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (c *child) allStderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.stderr, "\n")
}

// unusedAddr is a loopback address nothing listens on.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestRedisDownAtStart: with Redis away, every line the binary writes
// is JSON, go-redis's own included (it wrote plain "redis: … pool.go:770 …"
// lines before), and one line says Redis is unreachable: go-redis does
// not repeat it within its window. On a loaded machine the run can
// outlast the window, and a reminder after it is the design.
func TestRedisDownAtStart(t *testing.T) {
	c := startMain(t, "--addr", "127.0.0.1:0", "--redis", "redis://"+unusedAddr(t), "--secret", "0123456789abcdef0123",
		"--log-format", "json")
	line := c.await(t, "cohub listening")
	var listening struct{ Addr string }
	_ = json.Unmarshal([]byte(line), &listening)
	if code := call(t, "GET", "http://"+listening.Addr+"/readyz", "", "", nil); code != 503 {
		t.Fatalf("readyz with Redis down: %d", code)
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, c.allStderr())
	}
	var unreachable []time.Time
	var fromRedis []string
	for _, l := range strings.Split(c.allStderr(), "\n") {
		var line struct {
			Message, Component string
			Time               time.Time
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Errorf("not a JSON line: %s", l)
		}
		if line.Component == "go-redis" {
			fromRedis = append(fromRedis, l)
		}
		if strings.Contains(line.Message, "redis unreachable at start") {
			unreachable = append(unreachable, line.Time)
		}
	}
	if len(unreachable) != 1 {
		t.Fatalf("%d lines say Redis is unreachable at start, want 1", len(unreachable))
	}
	for _, l := range fromRedis {
		var line struct{ Time time.Time }
		_ = json.Unmarshal([]byte(l), &line)
		// Times are whole seconds and the quiet spell begins before the
		// ping that fails; without it go-redis writes at once, so half
		// the window tells the two apart.
		if line.Time.Sub(unreachable[0]) < redisLogWindow/2 {
			t.Errorf("go-redis repeats the start-up line within its window: %s", l)
		}
	}
}

// TestStartupRefusalsExitTwo: a refused setting ends the process with
// code 2 and a line naming the rule.
func TestStartupRefusalsExitTwo(t *testing.T) {
	c := startMain(t, "--addr", "127.0.0.1:0", "--log-level", "verbose")
	if code := c.wait(t); code != 2 || !strings.Contains(c.allStderr(), "cohub: --log-level must be debug, info, warn or error") {
		t.Fatalf("exit %d:\n%s", code, c.allStderr())
	}
}

// TestRedisWaitGivesUp: with --redis-wait and no Redis, the process
// exits 2 with the reason, before it listens: its --addr is taken, and
// "cannot listen" (exit 1) would come first if it listened first.
func TestRedisWaitGivesUp(t *testing.T) {
	taken := localListener(t)
	c := startMain(t, "--addr", taken.Addr().String(), "--redis", "redis://"+unusedAddr(t), "--secret", "0123456789abcdef0123",
		"--redis-wait", "300ms", "--log-format", "json")
	code := c.wait(t)
	out := c.allStderr()
	if code != 2 || !strings.Contains(out, "did not answer PING within 300ms") || !strings.Contains(out, "connection refused") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "go-redis") || strings.Contains(out, "cannot listen") {
		t.Fatalf("more than the one reason:\n%s", out)
	}
}

// TestRedisWaitSeesRedisCome: a wait that starts before Redis ends when
// Redis answers.
func TestRedisWaitSeesRedisCome(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop() // its port is now free, and Restart brings it back there
	cfg, err := parseConfig([]string{"--redis", "redis://" + srv.Addr, "--secret", "0123456789abcdef0123", "--redis-wait", "30s"},
		func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	tries := &lineSignal{match: "redis not answering yet", seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- waitForRedis(context.Background(), cfg, zerolog.New(tries).Level(zerolog.DebugLevel)) }()
	select {
	case <-tries.seen:
	case err := <-done:
		t.Fatalf("the wait ended before Redis started: %v", err)
	}
	srv.Restart(t)
	if err := <-done; err != nil {
		t.Fatalf("the wait did not see Redis come: %v", err)
	}
}

// lineSignal closes seen at the first log line that contains match.
type lineSignal struct {
	match string
	once  sync.Once
	seen  chan struct{}
}

func (s *lineSignal) Write(p []byte) (int, error) {
	if strings.Contains(string(p), s.match) {
		s.once.Do(func() { close(s.seen) })
	}
	return len(p), nil
}

func TestConfigFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"COHUB_ADDR": ":9000", "COHUB_LEAVE_GRACE": "5s", "COHUB_DEMO": "false",
		"COHUB_METRICS_ADDR": "127.0.0.1:9090"}
	cfg, err := parseConfig([]string{"--addr", ":9100", "--max-room-events", "50"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9100" || cfg.LeaveGrace.String() != "5s" || cfg.MaxRoomEvents != 50 || cfg.demo() ||
		cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("config = %+v", cfg)
	}
	if cfg.publicURL() != "http://localhost:9100" {
		t.Fatalf("public url = %q", cfg.publicURL())
	}
	cfg, err = parseConfig([]string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.7"}, func(string) string { return "" })
	if p, _ := cfg.proxies(); err != nil || len(p) != 2 || p[1].String() != "192.0.2.7/32" {
		t.Fatalf("trusted proxies: %v %v", p, err)
	}
	cfg, err = parseConfig([]string{"--redis", "redis://x", "--secret", "0123456789abcdef", "--demo"}, func(string) string { return "" })
	if err != nil || !cfg.demo() {
		t.Fatalf("--demo with Redis: %+v %v", cfg, err)
	}
	oidc := map[string]string{"COHUB_OIDC_ISSUER": "https://login.example.com", "COHUB_OIDC_CLIENT_ID": "cohub",
		"COHUB_OIDC_CLIENT_SECRET": "s3cret"}
	cfg, err = parseConfig([]string{"--oidc-name", "Example SSO", "--public-url", "https://cohub.example.com"}, func(k string) string { return oidc[k] })
	if p, _ := cfg.provider(); err != nil || p == nil || p.Name() != "Example SSO" || cfg.OIDCClientSecret != "s3cret" {
		t.Fatalf("single sign-on from the environment: %+v %v", cfg, err)
	}
	cfg, err = parseConfig(nil, func(string) string { return "" })
	if p, _ := cfg.provider(); p != nil {
		t.Fatal("single sign-on on without --oidc-issuer")
	}
	if err != nil || !cfg.demo() || !cfg.embedded() || cfg.PresenceTTL.String() != "10s" || cfg.MetricsAddr != "" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
}

// TestConfigRefusalsSayTheRule: each refusal names the rule broken, not
// just that something failed.
func TestConfigRefusalsSayTheRule(t *testing.T) {
	none := func(string) string { return "" }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-level", "verbose"}, "--log-level must be debug, info, warn or error"},
		{[]string{"--public-url", "localhost:18094"}, "--public-url must be an absolute http:// or https:// URL"},
		{[]string{"--public-url", "/cohub"}, "--public-url must be an absolute http:// or https:// URL"},
		{[]string{"--public-url", "ftp://cohub.example.com"}, "--public-url must be an absolute http:// or https:// URL"},
		{[]string{"--admin-email", "a@example.com", "--admin-password", "short"}, "--admin-password must be at least 10 characters"},
		{[]string{"--admin-email", "a@example.com", "--admin-password", strings.Repeat("x", 73)}, "--admin-password must be at most 72 bytes"},
		{[]string{"--redis-wait", "-1s"}, "--redis-wait must be a duration"},
		{[]string{"--redis-wait", "soon"}, "--redis-wait must be a duration"},
		{[]string{"--redis-sentinel", "127.0.0.1:26379"}, "--redis-sentinel needs --redis-master"},
		{[]string{"--redis-master", "mymaster"}, "--redis-master goes with --redis-sentinel"},
		{[]string{"--redis-cluster", "a:1", "--redis-sentinel", "b:2", "--redis-master", "m"}, "give --redis-cluster alone"},
		{[]string{"--redis-min-replicas", "-1"}, "--redis-min-replicas must be a whole number"},
		{[]string{"--max-conns", "-5"}, "--max-conns must be a whole number, 0 or more"},
		{[]string{"--max-conns", "many"}, "--max-conns must be a whole number, 0 or more"},
		{[]string{"--store", "disk"}, "--store must be embedded or memory"},
		{[]string{"--store", "memory", "--redis", "redis://x", "--secret", "0123456789abcdef"}, "--store is for running without Redis"},
		{[]string{"--oidc-issuer", "https://login.example.com"}, "--oidc-issuer and --oidc-client-id go together"},
		{[]string{"--oidc-client-secret", "s3cret"}, "--oidc-client-secret and --oidc-name need --oidc-issuer"},
		{[]string{"--oidc-issuer", "login.example.com", "--oidc-client-id", "cohub"}, "--oidc-issuer: the issuer must be an http(s) URL"},
	} {
		if _, err := parseConfig(c.args, none); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	env := map[string]string{"COHUB_REDIS_WAIT": "30s"}
	cfg, err := parseConfig([]string{"--public-url", "https://cohub.example.com/", "--log-level", "warn",
		"--admin-email", "a@example.com", "--admin-password", "ten-chars!"}, func(k string) string { return env[k] })
	if err != nil || cfg.RedisWait != 30*time.Second || cfg.publicURL() != "https://cohub.example.com" {
		t.Fatalf("good settings: %+v %v", cfg, err)
	}
}

func TestConfigRefusals(t *testing.T) {
	none := func(string) string { return "" }
	for _, args := range [][]string{
		{"--redis", "redis://x:6379"},
		{"--redis", "redis://x", "--redis-cluster", "a:1", "--secret", "0123456789abcdef"},
		{"--redis-sentinel", "s:26379", "--redis-master", "m"},
		{"--secret", "short"},
		{"--admin-email", "a@example.com"},
		{"--presence-ttl", "-1s"},
		{"--max-room-events", "zero"},
		{"--log-format", "xml"},
		{"--demo", "maybe"},
		{"--demo=maybe"},
		{"--trusted-proxies", "10.0.0.0/33"},
	} {
		if _, err := parseConfig(args, none); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

// syncBuffer is written by the server and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNewcomerPath boots the binary's wiring in embedded mode: demo
// logins are printed, one of them logs in and starts a session, the
// invitation lands in the outbox, and a cancel shuts it down cleanly.
func TestNewcomerPath(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig([]string{"--addr", ln.Addr().String(), "--data-dir", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, zerolog.Nop(), out, listeners{public: ln}) }()
	base := "http://" + ln.Addr().String()

	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	m := regexp.MustCompile(`agent\s+(alex@cohub\.local)\s+(\S+)`).FindStringSubmatch(out.String())
	a := regexp.MustCompile(`admin\s+(admin@cohub\.local)\s+(\S+)`).FindStringSubmatch(out.String())
	if m == nil || a == nil {
		t.Fatalf("demo logins not printed:\n%s", out)
	}
	// The ready line, run by a shell, holds the printed passwords.
	export := regexp.MustCompile(`(?m)^export .*$`).FindString(out.String())
	got, err := exec.Command("sh", "-c", export+"\n"+`printf '%s %s' "$ADMIN_PASSWORD" "$ALEX_PASSWORD"`).Output()
	if err != nil || string(got) != a[2]+" "+m[2] {
		t.Fatalf("export line %q gives %q (%v)", export, got, err)
	}
	agent := login(t, base, m[1], m[2])
	admin := login(t, base, a[1], a[2])
	body := `{"mode":"start","customer":{"name":"Cara","email":"cara@example.com"}}`
	if code := call(t, "POST", base+"/api/sessions", agent, body, nil); code != 201 {
		t.Fatalf("start session: %d", code)
	}
	var outbox struct{ Messages []struct{ To, Body string } }
	call(t, "GET", base+"/api/outbox", admin, "", &outbox)
	if len(outbox.Messages) != 1 || !strings.Contains(outbox.Messages[0].Body, cfg.publicURL()+"/c/") {
		t.Fatalf("outbox = %+v", outbox)
	}
	link := regexp.MustCompile(`/c/(\S+)`).FindStringSubmatch(outbox.Messages[0].Body)[1]
	if code := call(t, "GET", base+"/api/customer/session", "Link "+link, "", nil); code != 200 {
		t.Fatalf("customer view: %d", code)
	}
	var history struct{ Sessions []struct{ ID string } }
	call(t, "GET", base+"/api/sessions", agent, "", &history)
	cust, _ := meet(t, base, base, strings.TrimPrefix(agent, "Bearer "), link, history.Sessions[0].ID)

	// SIGTERM: the customer's socket closes with 1012 and run returns.
	cancel()
	if code := closedWith(cust); code != websocket.StatusServiceRestart {
		t.Fatalf("customer closed with %d, want 1012", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestMetricsOnTheirOwnListener: the public listener does not serve
// /metrics; the --metrics-addr one serves the edge's and the hub's series.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	public, metrics := localListener(t), localListener(t)
	cfg, err := parseConfig([]string{"--addr", public.Addr().String(), "--metrics-addr", metrics.Addr().String(), "--demo=false", "--store", "memory"},
		func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, zerolog.Nop(), io.Discard, listeners{public: public, metrics: metrics}) }()
	base := "http://" + public.Addr().String()
	if code := call(t, "GET", base+"/healthz", "", "", nil); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	if code, body := get(t, base+"/metrics"); code != 404 || strings.Contains(body, "go_goroutines") {
		t.Fatalf("public /metrics answered %d:\n%.300s", code, body)
	}
	code, body := get(t, "http://"+metrics.Addr().String()+"/metrics")
	for _, series := range []string{`cohub_http_requests_total{code="200",route="/healthz"} 1`, "cohub_live_rooms 0", "go_goroutines"} {
		if code != 200 || !strings.Contains(body, series) {
			t.Fatalf("metrics listener (%d) lacks %s:\n%s", code, series, body)
		}
	}
	// Profiles are the operator's too: on this listener, not the public one.
	if code, body := get(t, "http://"+metrics.Addr().String()+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("pprof on the metrics listener: %d %.200s", code, body)
	}
	if code, _ := get(t, base+"/debug/pprof/goroutine?debug=1"); code == 200 {
		t.Fatal("pprof is served on the public port")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get("http://" + metrics.Addr().String() + "/metrics"); err == nil {
		t.Fatal("the metrics listener outlived the shutdown")
	}
}

func localListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestDemoLoginsOffTerminal: when stdout is not a terminal (a service,
// a container), demo passwords go to a file only the owner reads; stdout
// and the log carry its path, never a password.
func TestDemoLoginsOffTerminal(t *testing.T) {
	c := startMain(t, "--addr", "127.0.0.1:0", "--log-format", "json")
	var listening struct{ Addr string }
	_ = json.Unmarshal([]byte(c.await(t, "cohub listening")), &listening)
	var written struct{ Path, Message string }
	for _, l := range strings.Split(c.allStderr(), "\n") {
		if strings.Contains(l, "demo logins written to") {
			_ = json.Unmarshal([]byte(l), &written)
		}
	}
	if written.Path == "" || written.Message != "demo logins written to "+written.Path {
		t.Fatalf("no file named in the log:\n%s\nstdout:\n%s", c.allStderr(), c.stdout)
	}
	info, err := os.Stat(written.Path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("logins file: %v %v", info, err)
	}
	text, _ := os.ReadFile(written.Path)
	m := regexp.MustCompile(`agent\s+(alex@cohub\.local)\s+(\S+)`).FindStringSubmatch(string(text))
	if m == nil || !strings.Contains(string(text), "export ADMIN_PASSWORD=") {
		t.Fatalf("logins file holds:\n%s", text)
	}
	login(t, "http://"+listening.Addr, m[1], m[2])
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	c.wait(t)
	passwords := regexp.MustCompile(`(?m)^  \S+\s+\S+@cohub\.local\s+(\S+)$`).FindAllStringSubmatch(string(text), -1)
	if len(passwords) != 4 {
		t.Fatalf("want 4 logins in the file:\n%s", text)
	}
	for _, pw := range passwords {
		if strings.Contains(c.stdout.String(), pw[1]) || strings.Contains(c.allStderr(), pw[1]) {
			t.Errorf("password %s left the file", pw[1])
		}
	}
}

// meet puts the agent (on one node) and the customer (on another) in a
// session's room and checks a message from each reaches the other.
func meet(t *testing.T, agentBase, custBase, token, link, id string) (cust, agent *wsclient.Conn) {
	t.Helper()
	agent = dialWS(t, agentBase, wsclient.Agent(token))
	cust = dialWS(t, custBase, wsclient.Customer(link, ""))
	say(t, agent, cust, id, "c-hello", "hello from the customer")
	return cust, agent
}

// say joins both connections to the session's room and checks that the
// customer's message (sent under the client id cid) reaches the agent.
func say(t *testing.T, agent, cust *wsclient.Conn, id, cid, text string) {
	t.Helper()
	topic := "room:" + id
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []*wsclient.Conn{agent, cust} {
		if _, err := c.Join(ctx, topic, nil); err != nil {
			t.Fatalf("join: %v", err)
		}
	}
	// A node loaded past LateAfter refuses a send for a moment
	// (overloaded, with retry_after_ms): the page resends under the same
	// id, and so does this.
	for try := 0; ; try++ {
		_, err := cust.Send(ctx, topic, cid, map[string]string{"text": text})
		if err == nil {
			break
		}
		var e *wsclient.Error
		if !errors.As(err, &e) || e.RetryAfter() == 0 || try == 5 {
			t.Fatalf("send: %v", err)
		}
		time.Sleep(e.RetryAfter()) // the wait the refusal asks for
	}
	if _, err := agent.Await(ctx, func(f wsclient.Frame) bool {
		var d struct{ Text string }
		_ = json.Unmarshal(f.Data, &d)
		return f.Op == "event" && d.Text == text
	}); err != nil {
		t.Fatalf("waiting for event: %v", err)
	}
}

func dialWS(t *testing.T, base string, cred wsclient.Credential) *wsclient.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsclient.Open(ctx, base, cred, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// closedWith drains a connection and returns the code that ended it.
func closedWith(c *wsclient.Conn) websocket.StatusCode {
	timeout := time.After(15 * time.Second)
	for {
		select {
		case _, ok := <-c.Events():
			if !ok {
				return c.CloseStatus()
			}
		case <-timeout:
			return c.CloseStatus()
		}
	}
}

func login(t *testing.T, base, email, password string) string {
	t.Helper()
	var out struct{ Token string }
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	if code := call(t, "POST", base+"/api/login", "", string(b), &out); code != 200 {
		t.Fatalf("login %s: %d", email, code)
	}
	return "Bearer " + out.Token
}

func call(t *testing.T, method, url, auth, body string, into any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

// startNodes runs two nodes sharing a Redis named by redis (flags) and a
// bootstrap admin, and waits until both are ready.
func startNodes(t *testing.T, ctx context.Context, redis ...string) (bases []string, dones []chan error) {
	t.Helper()
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := parseConfig(append([]string{"--addr", ln.Addr().String(), "--secret", "shared-secret-0123456789",
			"--admin-email", "root@bank.example", "--admin-password", "root-password-1"}, redis...),
			func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- run(ctx, cfg, zerolog.Nop(), io.Discard, listeners{public: ln}) }()
		bases = append(bases, "http://"+ln.Addr().String())
		dones = append(dones, done)
	}
	for _, b := range bases {
		if code := call(t, "GET", b+"/readyz", "", "", nil); code != 200 {
			t.Fatalf("%s not ready: %d", b, code)
		}
	}
	return bases, dones
}

// TestTwoNodesOnRedis starts two nodes on one Redis at once, both told to
// bootstrap the same admin: exactly one admin exists, either node logs it
// in, and a session started on one is read on the other.
func TestTwoNodesOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bases, dones := startNodes(t, ctx, "--redis", "redis://"+srv.Addr)
	admin := login(t, bases[0], "root@bank.example", "root-password-1")
	var agents struct{ Agents []struct{ Role string } }
	call(t, "GET", bases[1]+"/api/agents", admin, "", &agents)
	admins := 0
	for _, a := range agents.Agents {
		if a.Role == "admin" {
			admins++
		}
	}
	if admins != 1 || len(agents.Agents) != 1 {
		t.Fatalf("agents after two bootstraps: %+v", agents)
	}
	var s struct{ ID string }
	call(t, "POST", bases[0]+"/api/sessions", admin, `{"mode":"start","customer":{"email":"cara@example.com"}}`, &s)
	if code := call(t, "GET", bases[1]+"/api/sessions/"+s.ID, admin, "", nil); code != 200 {
		t.Fatalf("node 2 cannot read node 1's session: %d", code)
	}
	var link struct{ URL string }
	call(t, "POST", bases[0]+"/api/sessions/"+s.ID+"/link", admin, "", &link)
	meet(t, bases[0], bases[1], strings.TrimPrefix(admin, "Bearer "), link.URL[strings.LastIndex(link.URL, "/")+1:], s.ID)
	cancel()
	for _, d := range dones {
		if err := <-d; err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestConfigFiles(t *testing.T) {
	none := func(string) string { return "" }
	cfg, err := parseConfig(nil, none)
	if err != nil || cfg.blobURL(nil) != "mem://" || cfg.MaxUpload != 10<<20 {
		t.Fatalf("defaults: %q %d %v", cfg.blobURL(nil), cfg.MaxUpload, err)
	}
	cfg, err = parseConfig([]string{"--blob-url", "file:///var/lib/cohub/blobs", "--max-upload", "512KiB"}, none)
	if err != nil || cfg.blobURL(nil) != "file:///var/lib/cohub/blobs" || cfg.MaxUpload != 512<<10 {
		t.Fatalf("flags: %q %d %v", cfg.blobURL(nil), cfg.MaxUpload, err)
	}
	for _, bad := range []string{"0", "10 MB", "-1MiB", "2GiB", "100"} {
		if _, err := parseConfig([]string{"--max-upload", bad}, none); err == nil || !strings.Contains(err.Error(), "--max-upload") {
			t.Errorf("--max-upload %q: %v", bad, err)
		}
	}
	// With Redis and files in memory, start-up says so; with a store, not.
	var logs bytes.Buffer
	cfg, err = parseConfig([]string{"--redis", "redis://x", "--secret", "0123456789abcdef"}, none)
	noErr(t, err)
	_, err = openBlobs(t.Context(), cfg, nil, zerolog.New(&logs))
	noErr(t, err)
	if !strings.Contains(logs.String(), "set --blob-url") {
		t.Fatalf("no warning: %q", logs.String())
	}
	logs.Reset()
	cfg.BlobURL = "file://" + t.TempDir()
	_, err = openBlobs(t.Context(), cfg, nil, zerolog.New(&logs))
	if err != nil || logs.Len() != 0 {
		t.Fatalf("with a file store: %v %q", err, logs.String())
	}
	// A blob URL Cohub cannot open stops it at start, naming the flag.
	cfg, _ = parseConfig([]string{"--blob-url", "ftp://files"}, none)
	if _, err := openBlobs(t.Context(), cfg, nil, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "--blob-url") {
		t.Fatalf("ftp:// opened: %v", err)
	}
}
