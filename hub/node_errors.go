package hub

import (
	"sync"
	"time"
)

// noteErr counts a backend failure and logs it, at most once per kind
// every logEvery: while Redis is away the node's loops fail each second,
// and one line per kind says as much as sixty.
func (n *Node) noteErr(err error, what string) {
	if err == nil {
		return
	}
	n.metrics.RedisErrors.Inc()
	if held, ok := n.logs.allow(what, time.Now()); ok {
		n.log.Warn().Err(err).Int("suppressed", held).Msg(what + " failed")
	}
}

const logEvery = 10 * time.Second

// logLimiter lets one line per kind through every logEvery and counts
// the rest.
type logLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

// allow reports whether a line of this kind may be written now, and how
// many were held back since the last one.
func (l *logLimiter) allow(kind string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last, l.held = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := l.last[kind]; ok && now.Sub(t) < logEvery {
		l.held[kind]++
		return 0, false
	}
	held := l.held[kind]
	l.last[kind], l.held[kind] = now, 0
	return held, true
}
