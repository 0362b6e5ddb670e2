package redisconn

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redisproc"
	"github.com/cohub/cohub/internal/redistest"
)

func TestReplicasDefault(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want int
	}{
		{Options{URL: "redis://h:1", MinReplicas: -1}, 0},
		{Options{Sentinel: []string{"s:1"}, Master: "m", MinReplicas: -1}, 1},
		{Options{Cluster: []string{"c:1"}, MinReplicas: -1}, 1},
		{Options{Sentinel: []string{"s:1"}, Master: "m", MinReplicas: 0}, 0},
		{Options{URL: "redis://h:1", MinReplicas: 2}, 2},
	} {
		if got := c.o.Replicas(); got != c.want {
			t.Errorf("%+v: %d replicas, want %d", c.o, got, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Sentinel: []string{"s:1"}}, "needs --redis-master"},
		{Options{Master: "m"}, "goes with --redis-sentinel"},
		{Options{URL: "redis://h:1", SentinelPassword: "p"}, "--redis-sentinel-password goes with --redis-sentinel"},
		{Options{Cluster: []string{"c:1"}, URL: "redis://h:1"}, "alone"},
		{Options{Cluster: []string{"c:1"}, Sentinel: []string{"s:1"}, Master: "m"}, "alone"},
		{Options{Sentinel: []string{"nohostport"}, Master: "m"}, "not host:port"},
	} {
		if _, err := New(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}

// Each topology gets its client, speaking RESP2 unless the URL asks; a
// Sentinel client takes the master's password from the URL, and Addr
// never shows it.
func TestNew(t *testing.T) {
	rdb, err := New(Options{URL: "redis://:hunter2@h:1/2"})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := rdb.(*redis.Client); !ok || c.Options().Protocol != 2 || c.Options().DB != 2 {
		t.Fatalf("one server: %T %+v", rdb, rdb)
	}
	_ = rdb.Close()
	rdb, err = New(Options{Cluster: List("a:1, b:2,")})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := rdb.(*redis.ClusterClient); !ok || len(c.Options().Addrs) != 2 {
		t.Fatalf("cluster: %T", rdb)
	}
	_ = rdb.Close()
	o := Options{URL: "redis://:hunter2@ignored:1", Sentinel: []string{"s:1", "s:2"}, Master: "cohub"}
	rdb, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := rdb.(*redis.Client); !ok || c.Options().Password != "hunter2" {
		t.Fatalf("sentinel: %T", rdb)
	}
	_ = rdb.Close()
	for _, o := range []Options{o, {URL: "redis://:hunter2@h:1"}} {
		if a := o.Addr(); strings.Contains(a, "hunter2") {
			t.Errorf("Addr shows the password: %s", a)
		}
	}
}

// Sentinels with a password of their own: the right one reaches the
// master through them, a wrong one is refused.
func TestSentinelPassword(t *testing.T) {
	master := redistest.Start(t)
	s, err := redisproc.StartSentinel(t.TempDir(), master.Addr, "cohub", 1, time.Second, "requirepass sentinel-secret-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(syscall.SIGKILL) })
	for _, c := range []struct {
		pass string
		ok   bool
	}{{"sentinel-secret-1", true}, {"not-it", false}, {"", false}} {
		rdb, err := New(Options{Sentinel: []string{s.Addr}, Master: "cohub", SentinelPassword: c.pass, DialTries: 1})
		if err != nil {
			t.Fatal(err)
		}
		err = rdb.Ping(t.Context()).Err()
		_ = rdb.Close()
		if (err == nil) != c.ok {
			t.Errorf("sentinel password %q: ping error %v", c.pass, err)
		}
	}
}
