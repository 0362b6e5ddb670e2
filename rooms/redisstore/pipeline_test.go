package redisstore

import (
	"context"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redistest"
)

// TestPipelineSizes: scripts sent at once share pipelines, and the
// histogram counts every script in some pipeline, in fewer pipelines
// than scripts (a lone script still goes out alone, at once).
func TestPipelineSizes(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	p := newPipeliner(rdb, 0, 0)
	script := redis.NewScript(`return redis.call('INCR', KEYS[1])`)
	const n = 200
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := p.run(context.Background(), script, []string{prefix + "count"}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if v, _ := rdb.Get(context.Background(), prefix+"count").Int(); v != n {
		t.Fatalf("count = %d, want %d", v, n)
	}
	var m dto.Metric
	if err := p.sizes.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	if h.GetSampleSum() != n || h.GetSampleCount() >= n {
		t.Fatalf("pipelines: %d carrying %v scripts, want %d scripts in fewer pipelines", h.GetSampleCount(), h.GetSampleSum(), n)
	}
}
