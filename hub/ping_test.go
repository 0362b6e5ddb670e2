package hub_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/wsclient"
)

// Connections that open together are not pinged together: their first
// pings fall across the second half of the interval, and while clients
// talk the pings of one tick go out over the tick. A burst of pings is a
// burst of latency for the messages beside it.
func TestPingsSpread(t *testing.T) {
	cfg := livetest.Fast()
	cfg.PingEvery = time.Hour // no ping of its own comes during the test
	c := newCluster(t, "memory", 1, cfg)
	n := c.Nodes[0]
	const conns = 40
	clients := make([]*livetest.Client, conns)
	for i := range clients {
		clients[i] = n.Dial(t, wsclient.Agent(c.Tokens["alex"]))
	}
	var next, sent []int64
	waitUntil(t, "every connection registered", livetest.WaitLimit, func() bool {
		next, _ = hub.PingTimes(n.Hub)
		return len(next) == conns
	})
	if spread := time.Duration(slices.Max(next) - slices.Min(next)); spread < cfg.PingEvery/4 {
		t.Fatalf("first pings of %d connections opened together within %s of each other", conns, spread)
	}

	// A client talks through every tick of the test.
	quiet, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			_ = clients[0].Write(t.Context(), map[string]any{"op": "ping"})
			select {
			case <-quiet:
				return
			case <-time.After(cfg.Tick / 5):
			}
		}
	}()
	defer func() { close(quiet); <-stopped }()
	// The node paces a tick's pings when it saw a frame since the last
	// tick. On a loaded machine the talker's frame can miss a tick (the
	// node then pings in one burst, as it should), so a few rounds are
	// allowed: one of them must be paced.
	var spread time.Duration
	for range 5 {
		start := time.Now().UnixNano()
		hub.PingAllNow(n.Hub)
		waitUntil(t, "every due ping sent", livetest.WaitLimit, func() bool {
			_, sent = hub.PingTimes(n.Hub)
			return slices.Min(sent) >= start
		})
		if spread = time.Duration(slices.Max(sent) - slices.Min(sent)); spread >= cfg.Tick/2 {
			return
		}
	}
	t.Fatalf("%d pings due in one tick went out within %s; want them spread over the tick (%s)", conns, spread, cfg.Tick)
}
