package main

// The "abuse" scenario replays a security review's findings against a
// running server, each phase bounded in count and time: forged-link
// signatures with an image that decodes to 64 MB, uploads of images and
// PDFs that decode or inflate to hundreds of MB, slow uploads held from
// one link, files of a refused type, and a burst of wrong passwords. A
// sampler reads the server's RSS from its metrics and times /healthz
// throughout; the report says, per phase, the answers, the highest RSS
// and the slowest /healthz.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cohub/cohub/internal/hostile"
)

type abusePhase struct {
	name     string
	answers  map[int]int
	peakRSS  float64
	slowest  time.Duration
	duration time.Duration
}

type abuseReport struct {
	idleRSS, afterRSS float64
	phases            []*abusePhase
}

func (r *abuseReport) print(w io.Writer) {
	fmt.Fprintf(w, "idle RSS %.0f MB\n", r.idleRSS/1e6)
	fmt.Fprintf(w, "%-34s %-26s %10s %14s %9s\n", "phase", "answers", "peak RSS", "slowest /healthz", "took")
	for _, p := range r.phases {
		var codes []string
		for c, n := range p.answers {
			codes = append(codes, fmt.Sprintf("%d×%d", n, c))
		}
		sort.Strings(codes)
		fmt.Fprintf(w, "%-34s %-26s %7.0f MB %13.1f ms %8.1fs\n", p.name, strings.Join(codes, " "),
			p.peakRSS/1e6, float64(p.slowest.Microseconds())/1000, p.duration.Seconds())
	}
	fmt.Fprintf(w, "RSS after the last phase: %.0f MB\n", r.afterRSS/1e6)
}

// sampler reads RSS and times /healthz every 50 ms while a phase runs.
type sampler struct {
	o       options
	hc      *http.Client
	mu      sync.Mutex
	peak    float64
	slowest time.Duration
}

func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.sample(ctx)
	}
}

// sample times one /healthz and reads the RSS once.
func (s *sampler) sample(ctx context.Context) {
	start := time.Now()
	res, err := s.hc.Get(strings.TrimRight(s.o.URL, "/") + "/healthz")
	took := time.Since(start)
	if err == nil {
		res.Body.Close()
	} else {
		took = time.Hour // unanswered counts as the slowest
	}
	rss, _ := readRSS(ctx, s.o.MetricsURL)
	s.mu.Lock()
	s.peak, s.slowest = max(s.peak, rss), max(s.slowest, took)
	s.mu.Unlock()
}

func (s *sampler) take() (float64, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, sl := s.peak, s.slowest
	s.peak, s.slowest = 0, 0
	return p, sl
}

func runAbuse(ctx context.Context, o options, c *client) (*abuseReport, error) {
	hc := &http.Client{Timeout: 2 * time.Minute}
	rep := &abuseReport{}
	var err error
	if rep.idleRSS, err = readRSS(ctx, o.MetricsURL); err != nil {
		return nil, fmt.Errorf("reading RSS from %s: %w", o.MetricsURL, err)
	}
	up, err := c.taskLink(ctx, "upload")
	if err != nil {
		return nil, err
	}
	s := &sampler{o: o, hc: &http.Client{Timeout: 10 * time.Second}}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go s.run(sctx)
	base := strings.TrimRight(o.URL, "/")
	sig := []byte(`{"name":"Cara","image":"data:image/png;base64,` + base64.StdEncoding.EncodeToString(hostile.PNG16(4000, 2000)) + `"}`)
	bigPNG, bomb := multipartFile("id.png", hostile.PNG16(7000, 7000)), multipartFile("id.pdf", hostile.BombPDF(500))
	text := multipartFile("notes.txt", bytes.Repeat([]byte("not a photo "), 10<<20/12))
	phases := []struct {
		name string
		n    int
		send func(ctx context.Context) int
	}{
		{"sign, forged link, 64 MB image", 40, func(ctx context.Context) int {
			return post(ctx, hc, base+"/api/customer/tasks/k_x/sign", "Link garbage", "application/json", sig)
		}},
		{"upload 7000×7000 16-bit, no task", 6, func(ctx context.Context) int {
			return post(ctx, hc, base+"/api/customer/tasks/k_bogus/upload", "Link "+up.link, bigPNG.ctype, bigPNG.body)
		}},
		{"upload 500 MiB PDF bomb, no task", 4, func(ctx context.Context) int {
			return post(ctx, hc, base+"/api/customer/tasks/k_bogus/upload", "Link "+up.link, bomb.ctype, bomb.body)
		}},
		{"upload 500 MiB PDF bomb, the task", 4, func(ctx context.Context) int {
			return post(ctx, hc, base+"/api/customer/tasks/"+up.task+"/upload", "Link "+up.link, bomb.ctype, bomb.body)
		}},
		{"document PDF bomb, no task", 4, func(ctx context.Context) int {
			return post(ctx, hc, base+"/api/sessions/"+up.session+"/tasks/k_bogus/document", "Bearer "+c.token, bomb.ctype, bomb.body)
		}},
		{"upload 10 MiB of text (415)", 100, func(ctx context.Context) int {
			return post(ctx, hc, base+"/api/customer/tasks/"+up.task+"/upload", "Link "+up.link, text.ctype, text.body)
		}},
		{"slow uploads from one link", 2000, func(ctx context.Context) int {
			return slowUpload(ctx, o.URL, up, 20*time.Second)
		}},
		{"login, 100 wrong passwords at once", 100, func(ctx context.Context) int {
			return post(ctx, hc, base+"/api/login", "", "application/json",
				[]byte(fmt.Sprintf(`{"email":%q,"password":"wrong-%d"}`, o.Email, time.Now().UnixNano())))
		}},
	}
	for _, ph := range phases {
		p := &abusePhase{name: ph.name, answers: map[int]int{}}
		s.take()
		start := time.Now()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range ph.n {
			wg.Go(func() {
				st := ph.send(ctx)
				mu.Lock()
				p.answers[st]++
				mu.Unlock()
			})
		}
		wg.Wait()
		p.duration = time.Since(start)
		s.sample(ctx) // a phase may end before the ticker's first sample
		p.peakRSS, p.slowest = s.take()
		rep.phases = append(rep.phases, p)
	}
	stop()
	rep.afterRSS, _ = readRSS(ctx, o.MetricsURL)
	return rep, nil
}

// readRSS is the server's resident memory, from its metrics.
func readRSS(ctx context.Context, metricsURL string) (float64, error) {
	m, err := serverMemory(ctx, metricsURL)
	return m["process_resident_memory_bytes"], err
}

// taskRoom is a session of the agent's with one task and its link.
type taskRoom struct{ session, task, link string }

func (c *client) taskLink(ctx context.Context, kind string) (taskRoom, error) {
	r, err := c.newRoom(ctx, 0)
	if err != nil {
		return taskRoom{}, err
	}
	var t struct{ ID string }
	if st, err := c.call(ctx, "POST", "/api/sessions/"+r.id+"/tasks", map[string]string{"kind": kind, "title": "Photo of your ID"}, &t); err != nil || st != http.StatusCreated {
		return taskRoom{}, fmt.Errorf("add task: %d %v", st, err)
	}
	return taskRoom{session: r.id, task: t.ID, link: r.link}, nil
}

// post sends one request and returns its status (0: no answer).
func post(ctx context.Context, hc *http.Client, url, auth, ctype string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", ctype)
	res, err := hc.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// slowUpload opens an upload that sends a byte a second for at most
// hold, and returns its status (0: still held when hold ran out).
func slowUpload(ctx context.Context, base string, up taskRoom, hold time.Duration) int {
	host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	conn, err := net.DialTimeout("tcp", strings.TrimRight(host, "/"), 5*time.Second)
	if err != nil {
		return -1
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/customer/tasks/%s/upload HTTP/1.1\r\nHost: %s\r\nAuthorization: Link %s\r\n"+
		"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000\r\n\r\n--x\r\n", up.task, host, up.link)
	var answered atomic.Int32
	go func() {
		b := make([]byte, 64)
		if n, _ := conn.Read(b); n > 12 {
			var code int
			fmt.Sscanf(string(b[9:12]), "%d", &code)
			answered.Store(int32(code))
		}
	}()
	end := time.Now().Add(hold)
	for time.Now().Before(end) && answered.Load() == 0 {
		if _, err := conn.Write([]byte("a")); err != nil {
			break
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Second):
		}
	}
	return int(answered.Load())
}

type multipartBody struct {
	ctype string
	body  []byte
}

func multipartFile(name string, data []byte) multipartBody {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("file", name)
	_, _ = w.Write(data)
	_ = mw.Close()
	return multipartBody{ctype: mw.FormDataContentType(), body: b.Bytes()}
}
