package main

import (
	"context"
	"strings"
	"testing"

	"github.com/cohub/cohub/internal/redistest"
)

// TestTwoNodesOnTopologies runs two nodes, as the binary wires them from
// its flags, on Redis Sentinel and on Redis Cluster: both are ready, and
// an agent on one node and a customer on the other share a room.
func TestTwoNodesOnTopologies(t *testing.T) {
	for _, topo := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sentinel", func(t *testing.T) []string {
			master := redistest.Start(t)
			redistest.StartReplica(t, master)
			ss := redistest.StartSentinels(t, master, 1, 3)
			return []string{"--redis-sentinel", strings.Join(ss.Addrs, ","), "--redis-master", ss.Name}
		}},
		{"cluster", func(t *testing.T) []string {
			rc := redistest.StartShardedCluster(t, 3, 1)
			return []string{"--redis-cluster", strings.Join(rc.Addrs[:2], ",")}
		}},
	} {
		t.Run(topo.name, func(t *testing.T) {
			redis := topo.args(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			bases, dones := startNodes(t, ctx, redis...)
			admin := login(t, bases[0], "root@bank.example", "root-password-1")
			var s struct{ ID string }
			call(t, "POST", bases[0]+"/api/sessions", admin, `{"mode":"start","customer":{"email":"cara@example.com"}}`, &s)
			var link struct{ URL string }
			call(t, "POST", bases[0]+"/api/sessions/"+s.ID+"/link", admin, "", &link)
			meet(t, bases[0], bases[1], strings.TrimPrefix(admin, "Bearer "), link.URL[strings.LastIndex(link.URL, "/")+1:], s.ID)
			cancel()
			for _, d := range dones {
				if err := <-d; err != nil {
					t.Fatalf("shutdown: %v", err)
				}
			}
		})
	}
}
