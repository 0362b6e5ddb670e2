// Package netlimit bounds the connections a listener keeps open, below
// the process's file-descriptor limit: past the bound a new connection
// is closed at once (and said so in the log, once in a while), so the
// node keeps descriptors for Redis, files and its health checks instead
// of failing every accept and open with "too many open files".
package netlimit

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// reserve is what the bound leaves of the descriptor limit for
// everything that is not a client connection: Redis pools, blob files,
// the metrics listener, logs.
const reserve = 256

// Max is the default bound: the process's open-file limit less a
// reserve, and never under 64.
func Max() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 1024 - reserve
	}
	cur := min(lim.Cur, 1<<30)
	return max(int(cur)-max(reserve, int(cur/10)), 64)
}

// Listener wraps a listener so at most max of its connections are open.
type Listener struct {
	net.Listener
	max     int64
	open    atomic.Int64
	refused atomic.Int64
	log     zerolog.Logger
	mu      sync.Mutex
	saidAt  time.Time
	// every is how often a refusal is logged at most.
	every time.Duration
}

// New bounds l to max open connections; max 0 or less means Max().
func New(l net.Listener, max int, log zerolog.Logger) *Listener {
	if max <= 0 {
		max = Max()
	}
	return &Listener{Listener: l, max: int64(max), log: log, every: 10 * time.Second}
}

// Open is how many accepted connections are open now.
func (l *Listener) Open() int64 { return l.open.Load() }

// Accept returns the next connection under the bound, closing at once
// those past it.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &conn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refused.Add(1)
		l.say()
		_ = c.Close()
	}
}

// say logs the refusals since the last line, at most once per every.
func (l *Listener) say() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.saidAt) < l.every {
		return
	}
	l.saidAt = time.Now()
	l.log.Warn().Int64("open", l.open.Load()).Int64("max", l.max).Int64("refused", l.refused.Swap(0)).
		Msg("refusing new connections: this node holds as many as its file-descriptor limit allows (raise ulimit -n, or --max-conns)")
}

type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
