// Command cohub-load drives a running Cohub server and reports throughput
// and latency. Scenarios: "rest" — each worker is an agent's round: start
// a session, open it, load a history page; "chat" — each worker is a
// room, the customer (on --customer-url, another node if given) sends
// messages and the agent times their delivery; "idle" — hold --conns
// connections and read the server's memory per connection from its
// Prometheus metrics (--metrics-url: cohub serves them on its
// --metrics-addr); "abuse" — replay a security review's findings
// (oversized images, PDF bombs, slow uploads, a login burst) and report
// the server's peak RSS and slowest /healthz per phase. --bare serves a bare coder/websocket server to compare
// with. It targets loopback only unless told otherwise.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	URL         string
	Email       string
	Password    string
	Workers     int
	Duration    time.Duration
	Rounds      int64
	AllowRemote bool
	Scenario    string
	CustomerURL string
	Rate        int
	Conns       int
	MetricsURL  string
	Bare        string
}

func main() {
	o, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cohub-load:", err)
		os.Exit(2)
	}
	if err := runScenario(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cohub-load:", err)
		os.Exit(1)
	}
}

// printer is any scenario's report.
type printer interface{ print(io.Writer) }

func runScenario(ctx context.Context, o options, out io.Writer) error {
	if o.Bare != "" {
		return serveBare(o.Bare)
	}
	var rep printer
	var err error
	switch o.Scenario {
	case "rest":
		rep, err = run(ctx, o)
	case "chat", "idle", "abuse":
		hc := &http.Client{Timeout: 30 * time.Second}
		var c *client
		if o.Password != "" {
			if c, err = login(ctx, o, hc); err != nil {
				return err
			}
		}
		switch o.Scenario {
		case "chat":
			rep, err = runChat(ctx, o, c)
		case "abuse":
			rep, err = runAbuse(ctx, o, c)
		default:
			rep, err = runIdle(ctx, o, c)
		}
	}
	if err != nil {
		return err
	}
	rep.print(out)
	return nil
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("cohub-load", flag.ContinueOnError)
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "Cohub server")
	fs.StringVar(&o.Email, "email", "alex@cohub.local", "agent login")
	fs.StringVar(&o.Password, "password", os.Getenv("COHUB_LOAD_PASSWORD"), "agent password (COHUB_LOAD_PASSWORD)")
	fs.IntVar(&o.Workers, "workers", 16, "concurrent agents' rounds")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to run at most")
	fs.Int64Var(&o.Rounds, "rounds", 0, "rounds to run at most (0: no limit but --duration)")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a target that is not on this machine")
	fs.StringVar(&o.Scenario, "scenario", "rest", "rest, chat, idle or abuse")
	fs.StringVar(&o.CustomerURL, "customer-url", "", "chat: the node customers connect to (default --url)")
	fs.IntVar(&o.Rate, "rate", 5, "chat: messages a second per room (the server allows 20 frames/s per connection)")
	fs.IntVar(&o.Conns, "conns", 1000, "idle: connections to hold")
	fs.StringVar(&o.MetricsURL, "metrics-url", "", "idle: the server's Prometheus metrics, such as http://127.0.0.1:9090/metrics for cohub --metrics-addr 127.0.0.1:9090 (default --url + /metrics, which --bare serves)")
	fs.StringVar(&o.Bare, "bare", "", "serve a bare coder/websocket server on this address instead (the idle baseline)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.CustomerURL == "" {
		o.CustomerURL = o.URL
	}
	if o.MetricsURL == "" {
		o.MetricsURL = strings.TrimRight(o.URL, "/") + "/metrics"
	}
	switch {
	case o.Bare != "":
		return o, nil
	case o.Scenario != "rest" && o.Scenario != "chat" && o.Scenario != "idle" && o.Scenario != "abuse":
		return o, fmt.Errorf("--scenario %q: rest, chat, idle or abuse", o.Scenario)
	case o.Password == "" && o.Scenario != "idle":
		return o, errors.New("give --password or COHUB_LOAD_PASSWORD")
	case o.Rate < 1 || o.Rate > 20 || o.Conns < 1:
		return o, errors.New("--rate must be 1..20 and --conns positive")
	case o.Workers < 1 || o.Duration <= 0 || o.Duration > time.Hour:
		return o, errors.New("--workers must be positive and --duration within an hour")
	}
	if err := checkTarget(o.CustomerURL, o.AllowRemote); err != nil {
		return o, err
	}
	return o, checkTarget(o.URL, o.AllowRemote)
}

// checkTarget keeps load on this machine unless allowed otherwise.
func checkTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--url %q is not a URL", raw)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--url %s is not a loopback address; add --allow-remote to load another machine", host)
}

// client is one logged-in agent.
type client struct {
	base  string
	token string
	http  *http.Client
}

func login(ctx context.Context, o options, hc *http.Client) (*client, error) {
	c := &client{base: strings.TrimRight(o.URL, "/"), http: hc}
	var out struct{ Token string }
	status, err := c.call(ctx, "POST", "/api/login", map[string]string{"email": o.Email, "password": o.Password}, &out)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || out.Token == "" {
		return nil, fmt.Errorf("login as %s: status %d", o.Email, status)
	}
	c.token = out.Token
	return c, nil
}

func (c *client) call(ctx context.Context, method, path string, body, into any) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if into != nil && res.StatusCode < 300 {
		return res.StatusCode, json.NewDecoder(res.Body).Decode(into)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// ops are the steps of one round, in order.
var ops = []string{"create", "get", "history"}

// report gathers latencies per operation and failures.
type report struct {
	mu       sync.Mutex
	lat      map[string][]time.Duration
	failures map[string]int
	rounds   int64
	elapsed  time.Duration
}

func (r *report) add(op string, d time.Duration, failure string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if failure != "" {
		r.failures[op+" "+failure]++
		return
	}
	r.lat[op] = append(r.lat[op], d)
}

func run(ctx context.Context, o options) (*report, error) {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Workers}}
	c, err := login(ctx, o, hc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	rep := &report{lat: map[string][]time.Duration{}, failures: map[string]int{}}
	var started atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := started.Add(1); ctx.Err() == nil && (o.Rounds == 0 || n <= o.Rounds); n = started.Add(1) {
				if c.round(ctx, rep, w, n) {
					atomic.AddInt64(&rep.rounds, 1)
				}
			}
		}()
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	return rep, nil
}

// round runs one agent round and says whether every step succeeded.
func (c *client) round(ctx context.Context, rep *report, worker int, n int64) bool {
	var s struct{ ID string }
	body := map[string]any{"mode": "start", "customer": map[string]string{
		"name": fmt.Sprintf("Load %d", n), "email": fmt.Sprintf("load-%d-%d@example.com", worker, n)}}
	steps := []func() (int, error){
		func() (int, error) { return c.call(ctx, "POST", "/api/sessions", body, &s) },
		func() (int, error) { return c.call(ctx, "GET", "/api/sessions/"+s.ID, nil, nil) },
		func() (int, error) { return c.call(ctx, "GET", "/api/sessions?limit=20", nil, nil) },
	}
	for i, step := range steps {
		t0 := time.Now()
		status, err := step()
		switch {
		case ctx.Err() != nil:
			return false // the run ended mid-round: not a failure of the server
		case err != nil:
			rep.add(ops[i], 0, "error: "+err.Error())
			return false
		case status >= 300:
			rep.add(ops[i], 0, fmt.Sprintf("status %d", status))
			return false
		}
		rep.add(ops[i], time.Since(t0), "")
	}
	return true
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "rounds: %d in %.1fs = %.0f rounds/s\n", r.rounds, r.elapsed.Seconds(), float64(r.rounds)/r.elapsed.Seconds())
	fmt.Fprintf(w, "%-8s %8s %9s %9s %9s\n", "op", "count", "p50", "p95", "p99")
	for _, op := range ops {
		l := r.lat[op]
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		fmt.Fprintf(w, "%-8s %8d %9s %9s %9s\n", op, len(l), pct(l, 50), pct(l, 95), pct(l, 99))
	}
	for f, n := range r.failures {
		fmt.Fprintf(w, "failed: %s × %d\n", f, n)
	}
}

func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	return sorted[(len(sorted)-1)*p/100].Round(10 * time.Microsecond).String()
}
