package presence

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/redistest"
)

// BenchmarkRefresh10k writes 10,000 connections' entries (5,000 rooms, two
// each) in one batch: what a node does after a resubscribe, and, spread
// over the minutes, for entries that come due. A node's periodic cost is
// BenchmarkAlive.
func BenchmarkRefresh10k(b *testing.B) {
	conns := make([]Conn, 10000)
	for i := range conns {
		conns[i] = Conn{ID: fmt.Sprint("n1.", i), Room: fmt.Sprint("s_", i/2), Role: RoleCustomer, Node: "n1"}
	}
	for name, p := range benchTrackers(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Refresh(context.Background(), "n1", conns, time.Now().Add(time.Minute)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAlive is a node's periodic presence write, whatever its number
// of connections.
func BenchmarkAlive(b *testing.B) {
	for name, p := range benchTrackers(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Alive(context.Background(), "n1", time.Now().Add(10*time.Second)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchTrackers(b *testing.B) map[string]Tracker {
	rdb, prefix := redistest.Client(b)
	return map[string]Tracker{"memory": NewMemory(), "redis": NewRedis(rdb, prefix)}
}
