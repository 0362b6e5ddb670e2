package storetest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/boltstore"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/redisstore"
	"github.com/cohub/cohub/rooms/storetest"
)

// benchStores runs a benchmark on each backend with a fresh store.
func benchStores(b *testing.B, fn func(b *testing.B, st rooms.Store)) {
	for _, backend := range []string{"memory", "embedded", "redis"} {
		b.Run(backend, func(b *testing.B) {
			var st rooms.Store = memstore.New(nil)
			switch backend {
			case "redis":
				rdb, prefix := redistest.Client(b)
				st = redisstore.New(rdb, prefix, redisstore.Options{})
			case "embedded":
				disk, err := boltstore.Open(filepath.Join(b.TempDir(), "cohub.db"), boltstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = disk.Close() })
				st = disk
			}
			fn(b, st)
		})
	}
}

// BenchmarkAppend is one chat message's commit: the gate, the sender's
// rate and the message's name checked, the event appended and published,
// the activity moved, in one script on Redis (one at a time here, so no
// pipelining helps it).
func BenchmarkAppend(b *testing.B) {
	benchStores(b, func(b *testing.B, st rooms.Store) {
		ctx := context.Background()
		s := storetest.NewSession("s_bench", "a_1", "t_1", time.Now())
		if _, err := st.Commit(ctx, s, nil, rooms.CommitOptions{}); err != nil {
			b.Fatal(err)
		}
		from := &rooms.Actor{Role: "customer"}
		text := "a hundred bytes of chat, give or take: the size the side-by-side bench sends in each message."
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			_, err := st.Append(ctx, "s_bench", rooms.MessageAppend{
				Event: rooms.Event{Type: rooms.EventMessage, At: time.Now(), From: from, Text: text}, Now: time.Now(),
				Opts: rooms.CommitOptions{Once: fmt.Sprint("customer:", i), Rate: &rooms.Rate{Key: "customer", Every: time.Nanosecond, Burst: 1 << 30}},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendParallel is the same with many senders at once: on Redis
// the node's pipeliner sends what is pending in one round trip.
func BenchmarkAppendParallel(b *testing.B) {
	benchStores(b, func(b *testing.B, st rooms.Store) {
		ctx := context.Background()
		const nRooms = 64
		for r := range nRooms {
			s := storetest.NewSession(fmt.Sprint("s_", r), "a_1", "t_1", time.Now())
			if _, err := st.Commit(ctx, s, nil, rooms.CommitOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.SetParallelism(16)
		var n atomicCounter
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.next()
				_, err := st.Append(ctx, fmt.Sprint("s_", i%nRooms), rooms.MessageAppend{
					Event: rooms.Event{Type: rooms.EventMessage, At: time.Now(), From: &rooms.Actor{Role: "agent", ID: "a_1"}, Text: "hello"},
					Now:   time.Now(), Opts: rooms.CommitOptions{Once: fmt.Sprint("agent:", i)},
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkCommit is a lifecycle commit (a task assigned): the whole
// record written with its event, version-checked.
func BenchmarkCommit(b *testing.B) {
	benchStores(b, func(b *testing.B, st rooms.Store) {
		ctx := context.Background()
		s := storetest.NewSession("s_bench", "a_1", "t_1", time.Now())
		if _, err := st.Commit(ctx, s, nil, rooms.CommitOptions{}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			task := rooms.Task{ID: "k_1", Kind: "sign", Title: "Sign", Status: rooms.TaskPending}
			if _, err := st.Commit(ctx, s, []rooms.Event{{Type: rooms.EventTaskAssigned, At: time.Now(), Task: &task}}, rooms.CommitOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int64 { return c.n.Add(1) }
