package hub_test

import (
	"testing"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/rooms"
)

// The hub's tests run on internal/livetest's clusters, whose nodes the
// tests end as a crash would (hub.Kill): no goodbyes.

func newCluster(t testing.TB, backend string, n int, cfg hub.Config) *livetest.Cluster {
	t.Helper()
	return newClusterWith(t, backend, n, cfg, nil)
}

// newClusterWith is newCluster with the nodes' service settings adjusted.
func newClusterWith(t testing.TB, backend string, n int, cfg hub.Config, svcCfg func(*rooms.Config)) *livetest.Cluster {
	t.Helper()
	return newClusterOn(t, backend, nil, n, cfg, svcCfg)
}

// newClusterOn is newClusterWith on a Redis topology (topo nil: one
// server started for the test).
func newClusterOn(t testing.TB, backend string, topo *livetest.RedisTopology, n int, cfg hub.Config, svcCfg func(*rooms.Config)) *livetest.Cluster {
	t.Helper()
	return livetest.NewClusterWith(t, backend, n, cfg, livetest.Options{Rooms: svcCfg, Topology: topo, Stop: hub.Kill})
}
