package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/storetest"
)

// The embedded store's numbers for docs/BENCHMARKS.md: every Append
// below is acknowledged only once its transaction is fsync'd.
//
//	go test -run '^$' -bench . -benchtime 10000x ./rooms/boltstore

// chat is one customer's chat message of about a hundred bytes, named
// as the hub names a send, under the sender's rate.
func chat(i int64) rooms.MessageAppend {
	m := storetest.Message("customer", "a hundred bytes of chat, give or take: the size the side-by-side bench sends in each message.", time.Now())
	m.Opts = rooms.CommitOptions{Once: fmt.Sprint("customer:", i), Rate: &rooms.Rate{Key: "customer", Every: time.Nanosecond, Burst: 1 << 30}}
	return m
}

// latencies collects per-commit latencies and reports their p50 and p99.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, started time.Time) {
	slices.Sort(l.all)
	if len(l.all) == 0 {
		return
	}
	at := func(q float64) float64 { return float64(l.all[int(q*float64(len(l.all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(len(l.all))/time.Since(started).Seconds(), "commits/s")
}

// BenchmarkAppendFsync is one writer: each chat message waits for its
// own fsync.
func BenchmarkAppendFsync(b *testing.B) {
	benchAppends(b, 1, 1)
}

// BenchmarkAppendGroupCommit is 32 writers in 8 rooms: messages that
// arrive while a transaction commits share the next one and its fsync.
func BenchmarkAppendGroupCommit(b *testing.B) {
	benchAppends(b, 32, 8)
}

func benchAppends(b *testing.B, writers, nRooms int) {
	st := open(b)
	ctx := context.Background()
	for r := range nRooms {
		if _, err := st.Commit(ctx, storetest.NewSession(fmt.Sprint("s_", r), "a_1", "t_1", time.Now()), nil, rooms.CommitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var lat latencies
	var n atomic.Int64
	b.ResetTimer()
	started := time.Now()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := n.Add(1); i <= int64(b.N); i = n.Add(1) {
				t0 := time.Now()
				if _, err := st.Append(ctx, fmt.Sprint("s_", i%int64(nRooms)), chat(i)); err != nil {
					b.Error(err)
					return
				}
				lat.add(time.Since(t0))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	lat.report(b, started)
	size, err := os.Stat(st.Path())
	if err == nil {
		b.ReportMetric(float64(size.Size())*10000/float64(b.N), "file-bytes/10k-msgs")
	}
}
