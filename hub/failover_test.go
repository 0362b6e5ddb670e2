package hub_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/redisconn"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

// Failover tests run real Redis topologies (Sentinel, Cluster) on
// loopback, kill a master mid-conversation and count what every side
// got. They print the outage and the delayed, lost and duplicated
// messages; lost and duplicated must be 0.

// talk keeps a conversation going: each client sends named messages one
// after another (a message waits for the reply to the one before), and
// what was acknowledged, with which seq and after how long, is kept.
type talk struct {
	t     *testing.T
	topic string
	stop  chan struct{}
	wg    sync.WaitGroup

	mu    sync.Mutex
	acked map[string]ack // text -> its acknowledgement
	n     int            // messages sent so far
}

type ack struct {
	seq    int64
	sentAt time.Time
	took   time.Duration
}

// talkConfig lets a conversation go at its pace: a message every 20 ms
// from each side is past a connection's default frame rate. Pings are
// rare: a failover test on a loaded machine must not lose a client to a
// late pong, which is not what it tests.
func talkConfig() hub.Config {
	cfg := livetest.Fast()
	cfg.FrameRate, cfg.FrameBurst = 10000, 10000
	cfg.PingEvery, cfg.PongWait = 30*time.Second, 10*time.Second
	return cfg
}

func startTalk(t *testing.T, topic string, sides map[string]*livetest.Client) *talk {
	tk := &talk{t: t, topic: topic, stop: make(chan struct{}), acked: map[string]ack{}}
	for name, cl := range sides {
		tk.wg.Add(1)
		go tk.run(name, cl)
	}
	return tk
}

func (tk *talk) run(name string, cl *livetest.Client) {
	defer tk.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-tk.stop:
			return
		case <-time.After(20 * time.Millisecond): // the conversation's pace
		}
		text := fmt.Sprintf("%s says %d", name, i)
		ref := "talk-" + text
		sent := time.Now()
		cl.MustWrite(map[string]any{"op": "send", "ref": ref, "id": text, "topic": tk.topic, "data": map[string]string{"text": text}})
		tk.mu.Lock()
		tk.n++
		tk.mu.Unlock()
		r, ok := cl.Within(60*time.Second, func(f livetest.Frame) bool { return f.Op == "reply" && f.Ref == ref })
		if !ok || r.Status != "ok" {
			tk.t.Errorf("%s: no ok reply within a minute: %s", text, r.Raw)
			return
		}
		tk.mu.Lock()
		tk.acked[text] = ack{seq: int64(r.Map()["seq"].(float64)), sentAt: sent, took: time.Since(sent)}
		tk.mu.Unlock()
	}
}

// count is how many messages were acknowledged, and how many of those
// were sent after at.
func (tk *talk) count(after time.Time) (all, since int) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	for _, a := range tk.acked {
		all++
		if a.sentAt.After(after) {
			since++
		}
	}
	return all, since
}

func (tk *talk) end() map[string]ack {
	close(tk.stop)
	tk.wg.Wait()
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return tk.acked
}

// readiness polls a node's /readyz and keeps when it went red and green.
type readiness struct {
	mu        sync.Mutex
	red       time.Time // first 503
	greenOK   time.Time // first 200 after it
	stop      chan struct{}
	done      chan struct{}
	redCount  int
	lastError string
}

func watchReady(url string) *readiness {
	rd := &readiness{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(rd.done)
		hc := &http.Client{Timeout: 3 * time.Second}
		for {
			select {
			case <-rd.stop:
				return
			case <-time.After(50 * time.Millisecond): // a probe's period, as a balancer's
			}
			resp, err := hc.Get(url + "/readyz")
			ok := err == nil && resp.StatusCode == http.StatusOK
			if resp != nil {
				_ = resp.Body.Close()
			}
			now := time.Now()
			rd.mu.Lock()
			switch {
			case !ok && rd.red.IsZero():
				rd.red = now
				rd.redCount++
			case !ok:
				rd.redCount++
			case ok && !rd.red.IsZero() && rd.greenOK.IsZero():
				rd.greenOK = now
			}
			rd.mu.Unlock()
		}
	}()
	return rd
}

func (rd *readiness) end() (red, green time.Time) {
	close(rd.stop)
	<-rd.done
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return rd.red, rd.greenOK
}

// waitUntil polls cond: a failover's progress (a sentinel's choice, a
// replica's promotion) has no event a test can await.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkTalk asserts that every acknowledged message is in the log once,
// at the seq its reply gave, and reached every client once, in order;
// it reports the counts.
func checkTalk(t *testing.T, c *livetest.Cluster, id string, acked map[string]ack, clients []*livetest.Client, killed time.Time) {
	t.Helper()
	ctx := context.Background()
	evs, err := c.Service().Store().Events(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	inLog := map[string][]int64{}
	for _, e := range evs {
		if e.Type == rooms.EventMessage {
			inLog[e.Text] = append(inLog[e.Text], e.Seq)
		}
	}
	lost, dup, delayed, stalled := 0, 0, 0, time.Duration(0)
	for text, a := range acked {
		seqs := inLog[text]
		switch {
		case len(seqs) == 0:
			lost++
			t.Errorf("acknowledged %q (seq %d) is not in the log", text, a.seq)
		case len(seqs) > 1:
			dup++
			t.Errorf("%q is in the log %d times: %v", text, len(seqs), seqs)
		case seqs[0] != a.seq:
			t.Errorf("%q acknowledged as seq %d, logged as %d", text, a.seq, seqs[0])
		}
		if a.took > 500*time.Millisecond {
			delayed++
		}
		if a.sentAt.Before(killed) && a.sentAt.Add(a.took).After(killed) || a.sentAt.After(killed) {
			stalled = max(stalled, a.took)
		}
	}
	for text, seqs := range inLog {
		if len(seqs) > 1 && acked[text].seq == 0 {
			dup++
			t.Errorf("unacknowledged %q is in the log %d times", text, len(seqs))
		}
	}
	// Every client catches up: each logged message once, in seq order.
	last := evs[len(evs)-1].Seq
	for i, cl := range clients {
		cl.Await("the last event", func(f livetest.Frame) bool { return f.Op == "event" && f.Seq == last })
		got := cl.All(func(f livetest.Frame) bool { return f.Op == "event" && f.Topic == bus.RoomTopic(id) })
		seen := map[int64]bool{}
		for j, f := range got {
			if seen[f.Seq] {
				dup++
				t.Errorf("client %d got seq %d twice", i, f.Seq)
			}
			seen[f.Seq] = true
			if j > 0 && f.Seq != got[j-1].Seq+1 {
				t.Errorf("client %d: seq %d follows %d", i, f.Seq, got[j-1].Seq)
			}
		}
		for text, a := range acked {
			if !seen[a.seq] {
				lost++
				t.Errorf("client %d never got %q (seq %d)", i, text, a.seq)
			}
		}
	}
	t.Logf("messages acknowledged %d (log %d events); longest wait across the failover %s; delayed over 500 ms %d; lost %d; duplicated %d",
		len(acked), len(evs), stalled.Round(time.Millisecond), delayed, lost, dup)
}

// A master with a replica under three sentinels; two nodes; the master
// is killed mid-conversation. The nodes follow the promoted replica,
// /readyz goes red then green, subscribers resubscribe and catch up, and
// every acknowledged message is delivered once (commits wait for the
// replica, so the promoted one holds them all).
func TestSentinelFailover(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	sentinels := redistest.StartSentinels(t, master, 1, 3)
	topo := &livetest.RedisTopology{Replicas: 1, Dial: func(name string) redis.UniversalClient {
		rdb, err := redisconn.New(redisconn.Options{Sentinel: sentinels.Addrs, Master: sentinels.Name, MinReplicas: -1})
		if err != nil {
			t.Fatal(err)
		}
		return rdb
	}}
	if got := (redisconn.Options{Sentinel: sentinels.Addrs, Master: sentinels.Name, MinReplicas: -1}).Replicas(); got != 1 {
		t.Fatalf("Sentinel's default min replicas %d, want 1", got)
	}
	c := newClusterOn(t, "redis", topo, 2, talkConfig(), func(sc *rooms.Config) { sc.MessageRate, sc.MessageBurst = 1e6, 1e6 })
	l := c.Live(0, 1)
	ready := []*readiness{watchReady(c.Nodes[0].Server.URL), watchReady(c.Nodes[1].Server.URL)}
	tk := startTalk(t, l.Topic, map[string]*livetest.Client{"agent": l.Agent, "customer": l.Cust})
	waitUntil(t, "a conversation", 10*time.Second, func() bool { n, _ := tk.count(time.Time{}); return n >= 20 })

	killed := time.Now()
	master.Stop()
	waitUntil(t, "the sentinels to promote the replica", 30*time.Second, func() bool {
		a, err := sentinels.Master(context.Background())
		return err == nil && a == replica.Addr
	})
	promoted := time.Since(killed)
	waitUntil(t, "the conversation to go on", 30*time.Second, func() bool { _, n := tk.count(killed); return n >= 20 })
	acked := tk.end()
	for i, rd := range ready {
		red, green := rd.end()
		if red.IsZero() || green.IsZero() {
			t.Errorf("node %d /readyz: red at %v, green again at %v; want red then green", i+1, red, green)
			continue
		}
		t.Logf("node %d /readyz red %s after the kill, for %s", i+1, red.Sub(killed).Round(time.Millisecond), green.Sub(red).Round(time.Millisecond))
	}
	t.Logf("sentinels promoted the replica %s after the kill", promoted.Round(time.Millisecond))
	checkTalk(t, c, l.ID, acked, []*livetest.Client{l.Agent, l.Cust}, killed)
	// The nodes wrote to the promoted replica: it holds the whole log.
	rep := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer rep.Close()
	last, _, err := c.Service().Store().LastSeq(context.Background(), l.ID)
	c.Must(err)
	if n, err := rep.Get(context.Background(), c.Prefix+"{"+l.ID+"}:seq").Int64(); err != nil || n != last || len(acked) == 0 {
		t.Fatalf("the promoted replica holds seq %d (%v), the log %d", n, err, last)
	}
}

// A log that went backwards (a failover to a replica that lacked the
// last writes) begins a new epoch: the room's clients are closed with
// 1012, rejoin with recovered:false, and no seq is reused under the
// epoch they hold.
func TestLogBackwardsBeginsEpoch(t *testing.T) {
	c := newCluster(t, "redis", 2, livetest.Fast())
	l := c.Live(0, 1)
	for i := range 5 {
		l.Agent.OK(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": fmt.Sprint("before ", i)}})
	}
	ctx := context.Background()
	st := c.Service().Store()
	last, epoch, err := st.LastSeq(ctx, l.ID)
	c.Must(err)
	for _, cl := range []*livetest.Client{l.Agent, l.Cust} {
		cl.Await("the last message", func(f livetest.Frame) bool { return f.Op == "event" && f.Seq == last })
	}
	// What a promoted replica without the last two writes holds.
	rdb := c.RedisClient()
	key := func(what string) string { return c.Prefix + "{" + l.ID + "}:" + what }
	c.Must(rdb.XDel(ctx, key("log"), fmt.Sprint(last, "-0"), fmt.Sprint(last-1, "-0")).Err())
	c.Must(rdb.Do(ctx, "XSETID", key("log"), fmt.Sprint(last-2, "-0")).Err())
	c.Must(rdb.Set(ctx, key("seq"), last-2, 0).Err())
	for _, tn := range c.Nodes {
		tn.Hub.Resync() // what a bus resubscribe after the failover does
	}
	for _, cl := range []*livetest.Client{l.Agent, l.Cust} {
		if code := cl.AwaitClose(); code != hub.CloseRestarting {
			t.Fatalf("closed with %d, want 1012", code)
		}
	}
	seq, epoch2, err := st.LastSeq(ctx, l.ID)
	c.Must(err)
	if epoch2 == epoch || epoch2 == "" || seq != last-2 {
		t.Fatalf("log after: seq %d epoch %q (was %d %q)", seq, epoch2, last, epoch)
	}
	for i, tn := range c.Nodes {
		if n := counter(tn.Metrics.EpochMoves); n != 1 {
			t.Errorf("node %d moved %v rooms to a new epoch, want 1", i+1, n)
		}
	}
	// The customer comes back with what it holds: not recovered, and the
	// transcript starts over under the new epoch.
	cust := c.Nodes[1].Dial(t, wsclient.Customer(l.Link, ""))
	d := cust.OK(map[string]any{"op": "join", "topic": l.Topic, "since": last, "epoch": epoch})
	if d["recovered"] != false || d["epoch"] != epoch2 {
		t.Fatalf("rejoin: %v", d)
	}
	cust.OK(map[string]any{"op": "leave", "topic": l.Topic})
	again := cust.Rejoin(l.Topic, 0, epoch2)
	if again["recovered"] != true {
		t.Fatalf("rejoin from 0: %v", again)
	}
	agent := c.Agent(c.Nodes[0], l.ID)
	before, now, err := st.LastSeq(ctx, l.ID)
	c.Must(err)
	r := agent.OK(map[string]any{"op": "send", "topic": l.Topic, "data": map[string]string{"text": "after"}})
	if int64(r["seq"].(float64)) != before+1 || now != epoch2 {
		t.Fatalf("the next message got seq %v under %q, want %d under the new epoch %q", r["seq"], now, before+1, epoch2)
	}
	evs, err := st.Events(ctx, l.ID, 0, 0)
	c.Must(err)
	msgs := 0
	for _, e := range evs {
		if e.Type == rooms.EventMessage {
			msgs++
		}
	}
	got := collect(t, cust, l.Topic, rooms.EventMessage, msgs)
	if got[len(got)-1].Map()["text"] != "after" {
		t.Fatalf("last: %s", got[len(got)-1].Raw)
	}
}

// clientLists counts, on every master, the connections of each named
// node: all of them, and those subscribed (pub/sub).
func clientLists(t *testing.T, cl *redistest.Cluster, names []string) (total, subs map[string]int, channels map[string]int) {
	t.Helper()
	total, subs, channels = map[string]int{}, map[string]int{}, map[string]int{}
	for _, m := range cl.Masters(t) {
		rdb := redis.NewClient(&redis.Options{Addr: m})
		list, err := rdb.ClientList(context.Background()).Result()
		_ = rdb.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(list, "\n") {
			f := map[string]string{}
			for _, kv := range strings.Fields(line) {
				k, v, _ := strings.Cut(kv, "=")
				f[k] = v
			}
			if !slices.Contains(names, f["name"]) {
				continue
			}
			total[f["name"]]++
			if strings.Contains(f["flags"], "P") {
				subs[f["name"]]++
				var n int
				fmt.Sscan(f["ssub"], &n)
				channels[f["name"]] += n
			}
		}
	}
	return total, subs, channels
}
