package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/rs/zerolog"

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
			var bases []string
			var dones []chan error
			for range 2 {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := parseConfig(append([]string{"--addr", ln.Addr().String(), "--secret", "shared-secret-0123456789",
					"--admin-email", "root@bank.example", "--admin-password", "root-password-1"}, redis...),
					func(string) string { return "" })
				if err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- run(ctx, cfg, zerolog.Nop(), io.Discard, listeners{public: ln}) }()
				bases = append(bases, "http://"+ln.Addr().String())
				dones = append(dones, done)
			}
			for _, b := range bases {
				if code := call(t, "GET", b+"/readyz", "", "", nil); code != 200 {
					t.Fatalf("%s not ready: %d", b, code)
				}
			}
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
