package hub_test

import (
	"context"
	"testing"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

func say(cl *livetest.Client, topic, text string) int64 {
	d := cl.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": text}})
	return int64(d["seq"].(float64))
}

// markRead sends a read op and returns the horizon its reply gives.
func markRead(t *testing.T, cl *livetest.Client, topic string, seq int64) int64 {
	t.Helper()
	d := cl.OK(map[string]any{"op": "read", "topic": topic, "data": map[string]any{"seq": seq}})
	return int64(d["seq"].(float64))
}

func isRead(by string, seq int64) func(livetest.Frame) bool {
	return func(f livetest.Frame) bool {
		m := f.Map()
		return f.Op == "read" && m["by"] == by && int64(m["seq"].(float64)) == seq
	}
}

func readsBy(cl *livetest.Client, by string) []livetest.Frame {
	return cl.All(func(f livetest.Frame) bool { return f.Op == "read" && f.Map()["by"] == by })
}

// Read receipts across two nodes on Redis: the agent on one, the
// customer on the other. Horizons only rise and never pass the log; each
// side sees the other's; a supervisor's reading is theirs alone (the
// customer is not told, the agent's horizon does not move); a page that
// joins again is given both horizons; a bad seq is refused naming it.
func TestReadReceiptsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "redis", 2, livetest.Fast())
	l := c.Live(0, 1)
	topic, agent, cust := l.Topic, l.Agent, l.Cust
	first := say(agent, topic, "hello")
	second := say(agent, topic, "are you there?")
	mine := say(cust, topic, "yes")

	if h := markRead(t, cust, topic, first); h != first {
		t.Fatalf("customer read %d: horizon %d", first, h)
	}
	agent.Await("the customer's read", isRead("customer", first))
	if h := markRead(t, cust, topic, first); h != first {
		t.Fatalf("the same read again: horizon %d, want %d", h, first)
	}
	if h := markRead(t, cust, topic, 1000); h != first {
		t.Fatalf("a read past the log: horizon %d, want %d", h, first)
	}
	if h := markRead(t, cust, topic, second); h != second {
		t.Fatalf("customer read %d: horizon %d", second, h)
	}
	agent.Await("the customer's second read", isRead("customer", second))
	if got := readsBy(agent, "customer"); len(got) != 2 {
		t.Fatalf("the agent was told of %d customer reads, want 2 (only rises): %s", len(got), agent.Dump())
	}
	if h := markRead(t, cust, topic, first); h != second {
		t.Fatalf("a read below the horizon: %d, want %d (never down)", h, second)
	}

	bad := cust.Call(map[string]any{"op": "read", "topic": topic, "data": map[string]any{"seq": 0}})
	if bad.Status != "error" || bad.Map()["code"] != "validation_failed" || bad.Map()["fields"].(map[string]any)["data.seq"] == nil {
		t.Fatalf("seq 0: %s", bad.Raw)
	}
	stranger := cust.Call(map[string]any{"op": "read", "topic": bus.RoomTopic("s_other"), "data": map[string]any{"seq": 1}})
	if stranger.Map()["code"] != "not_joined" {
		t.Fatalf("a read of a room not joined: %s", stranger.Raw)
	}

	// A supervisor reads the customer's message: agents see it by their
	// id, the customer is not told, the session's agent's horizon stays.
	_, err := c.Service().Accounts.UpdateAgent(ctx, c.Blake.ID, rooms.AgentInput{Agent: rooms.Agent{
		Email: c.Blake.Email, Name: c.Blake.Name, Role: rooms.RoleSupervisor, TeamID: c.Blake.TeamID, SettingsTeamIDs: []string{}}})
	c.Must(err)
	sup := c.Nodes[1].Dial(t, wsclient.Agent(c.Tokens["blake"]))
	sup.OK(map[string]any{"op": "join", "topic": topic})
	markRead(t, sup, topic, mine)
	f := agent.Await("the supervisor's read", isRead("agent", mine))
	if f.Map()["agent_id"] != c.Blake.ID {
		t.Fatalf("the supervisor's read names %v, want %s", f.Map()["agent_id"], c.Blake.ID)
	}
	// A frame cannot name another reader: the customer's "agent" read
	// raises the customer's own horizon.
	markRead(t, cust, topic, mine)
	cust.OK(map[string]any{"op": "read", "topic": topic, "data": map[string]any{"seq": mine, "by": "agent", "agent_id": c.Alex.ID}})
	if rs, err := c.Service().Sessions.ReadState(ctx, l.ID, ""); err != nil || rs.Agent != 0 || rs.Customer != mine {
		t.Fatalf("after a supervisor's read and the customer's = %+v %v, want the agent's horizon 0 and the customer's %d", rs, err, mine)
	}
	markRead(t, agent, topic, mine)
	got := cust.Await("the agent's read", isRead("agent", mine))
	if _, named := got.Map()["agent_id"]; named {
		t.Fatalf("the customer was told an agent id: %s", got.Raw)
	}
	if n := len(readsBy(cust, "agent")); n != 1 {
		t.Fatalf("the customer was told of %d agent reads, want only its agent's: %s", n, cust.Dump())
	}

	// A page that joins again, on the other node, shows "Seen" at once.
	join := c.Nodes[0].Dial(t, wsclient.Customer(l.Link, "")).OK(map[string]any{"op": "join", "topic": topic})
	read := join["read"].(map[string]any)
	if int64(read["customer"].(float64)) != mine || int64(read["agent"].(float64)) != mine {
		t.Fatalf("join's read = %v, want customer %d agent %d", read, mine, mine)
	}
	h, err := c.RedisClient().HGetAll(ctx, c.Prefix+"{"+l.ID+"}:read").Result()
	if err != nil || h["customer"] == "" || h["agent:"+c.Alex.ID] == "" || h["agent:"+c.Blake.ID] == "" {
		t.Fatalf("%s{%s}:read = %v %v", c.Prefix, l.ID, h, err)
	}
}

// Horizons are kept through a restart: of Redis, and of an embedded
// node (its data directory).
func TestReadHorizonSurvivesRestart(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		c := newCluster(t, "redis", 1, livetest.Fast())
		l := c.Live(0, 0)
		seq := say(l.Agent, l.Topic, "hello")
		markRead(t, l.Cust, l.Topic, seq)
		c.Redis.Restart(t)
		rejoinSees(t, c, l.ID, seq)
	})
	t.Run("embedded", func(t *testing.T) {
		c := newCluster(t, "embedded", 1, livetest.Fast())
		l := c.Live(0, 0)
		seq := say(l.Agent, l.Topic, "hello")
		markRead(t, l.Cust, l.Topic, seq)
		c.Restart()
		rejoinSees(t, c, l.ID, seq)
	})
}

func rejoinSees(t *testing.T, c *livetest.Cluster, id string, seq int64) {
	t.Helper()
	var d map[string]any
	waitUntil(t, "the agent to join again", livetest.WaitLimit, func() bool {
		cl, _, err := c.Nodes[0].TryDial(t, wsclient.Agent(c.Tokens["alex"]), nil)
		if err != nil {
			return false
		}
		defer cl.Close()
		r := cl.Call(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
		d = r.Map()
		return r.Status == "ok"
	})
	if read := d["read"].(map[string]any); int64(read["customer"].(float64)) != seq {
		t.Fatalf("after the restart the join's read = %v, want customer %d", read, seq)
	}
}
