// Package faultproxy is a TCP proxy on loopback that forwards, or cuts,
// delays, blackholes or half-opens a link on demand: the faults the soak
// and the tests put between a node and Redis.
package faultproxy

import (
	"io"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP fault proxy on loopback between one node and Redis: it
// forwards, or cuts, delays, blackholes or half-opens the link on demand.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  string        // "" (forward), cut, blackhole, half-open
	delay time.Duration // added to every chunk while set
	links map[net.Conn]net.Conn
}

// Proxy modes.
const (
	ModeForward   = ""
	ModeCut       = "cut"       // links closed, new ones refused
	ModeBlackhole = "blackhole" // links stay open, nothing passes either way
	ModeHalfOpen  = "half-open" // the node's writes pass, Redis's replies do not
)

// New listens on a free loopback port and forwards to target.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, links: map[net.Conn]net.Conn{}}
	go p.accept()
	return p, nil
}

// Addr is where the node connects.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and its links.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.Set(ModeCut, 0)
}

// Set changes the mode and the added delay; a cut closes every link.
func (p *Proxy) Set(mode string, delay time.Duration) {
	p.mu.Lock()
	p.mode, p.delay = mode, delay
	var closing []net.Conn
	if mode == ModeCut {
		for a, b := range p.links {
			closing = append(closing, a, b)
		}
		p.links = map[net.Conn]net.Conn{}
	}
	p.mu.Unlock()
	for _, c := range closing {
		_ = c.Close()
	}
}

func (p *Proxy) state() (string, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode, p.delay
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if mode, _ := p.state(); mode == ModeCut {
			_ = c.Close()
			continue
		}
		go p.link(c)
	}
}

func (p *Proxy) link(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	p.links[client] = server
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, true); done <- struct{}{} }()
	go func() { p.pipe(client, server, false); done <- struct{}{} }()
	<-done
	_ = client.Close()
	_ = server.Close()
	p.mu.Lock()
	delete(p.links, client)
	p.mu.Unlock()
}

// pipe copies one direction, applying the mode to every chunk: a
// blackhole drops it, a half-open link drops Redis's side.
func (p *Proxy) pipe(dst io.Writer, src io.Reader, toRedis bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			mode, delay := p.state()
			if delay > 0 {
				time.Sleep(delay) // the fault itself: added latency
			}
			drop := mode == ModeBlackhole || (mode == ModeHalfOpen && !toRedis)
			if !drop {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
