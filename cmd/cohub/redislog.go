package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// redisLogs takes go-redis's own log lines (failed dials, pool trouble).
// go-redis keeps one logger per process (redis.SetLogger), so this is one
// too; main points it at the JSON log.
var redisLogs = newRedisLog(zerolog.Nop(), redisLogWindow, time.Now)

// redisLogWindow is how often one shape of go-redis line may be written.
const redisLogWindow = 10 * time.Second

// redisLog writes go-redis's lines into the log at warn level. go-redis
// logs each failed dial of every client while Redis is away, dozens of
// lines a second, so each shape of line (its format) is written at most
// once per window, and the next one written says how many were dropped.
type redisLog struct {
	mu         sync.Mutex
	log        zerolog.Logger
	every      time.Duration
	now        func() time.Time
	quietUntil time.Time
	shapes     map[string]*lineShape
}

// lineShape is what the window remembers of one format.
type lineShape struct {
	written    time.Time
	suppressed int
}

func newRedisLog(log zerolog.Logger, every time.Duration, now func() time.Time) *redisLog {
	return &redisLog{log: log, every: every, now: now, shapes: map[string]*lineShape{}}
}

// to sends the lines to log.
func (l *redisLog) to(log zerolog.Logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = log
}

// quietFor holds every line back for d (zero ends a quiet spell): while
// start-up waits for Redis it reports the outage itself, in one line, and
// go-redis would only repeat it. Held lines count as suppressed.
func (l *redisLog) quietFor(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.quietUntil = l.now().Add(d)
}

// Printf is go-redis's logging interface (internal.Logging).
func (l *redisLog) Printf(_ context.Context, format string, v ...any) {
	log, suppressed, ok := l.admit(format)
	if !ok {
		return
	}
	e := log.Warn().Str("component", "go-redis")
	if suppressed > 0 {
		e = e.Int("suppressed", suppressed)
	}
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	e.Msg(strings.TrimPrefix(msg, "redis: "))
}

// admit says whether a line of this format may be written now, and how
// many of its kind were dropped since the last one written.
func (l *redisLog) admit(format string) (zerolog.Logger, int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	s := l.shapes[format]
	if s == nil {
		s = &lineShape{}
		l.shapes[format] = s
	}
	if now.Before(l.quietUntil) || (!s.written.IsZero() && now.Sub(s.written) < l.every) {
		s.suppressed++
		return l.log, 0, false
	}
	n := s.suppressed
	s.written, s.suppressed = now, 0
	return l.log, n, true
}
