package hub_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

// End, as each access mode says, seen through live connections; renew
// brings the room back.
func TestEndAndRenewLive(t *testing.T) {
	ctx := context.Background()
	t.Run("none", func(t *testing.T) {
		c := newCluster(t, "redis", 2, livetest.Fast())
		c.EndAccess(rooms.AccessNone, 0)
		id, link := c.Session(rooms.CreateRequest{})
		agent := c.Agent(c.Nodes[0], id)
		cust := c.Customer(c.Nodes[1], id, link)
		_, err := c.Service().Sessions.End(ctx, c.Alex, id)
		c.Must(err)
		agent.Await("session.ended", livetest.IsEvent(bus.RoomTopic(id), rooms.EventSessionEnded))
		if code := cust.AwaitClose(); code != hub.CloseEnded {
			t.Fatalf("customer closed with %d, want 4010", code)
		}
		_, resp, err := c.Nodes[1].TryDial(t, wsclient.Customer(link, ""), nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusGone {
			t.Fatalf("link after end with no access: %v %v", err, resp)
		}
		_, err = c.Service().Sessions.Renew(ctx, c.Alex, id)
		c.Must(err)
		agent.Await("session.renewed", livetest.IsEvent(bus.RoomTopic(id), rooms.EventSessionRenewed))
		back := c.Customer(c.Nodes[1], id, link)
		back.OK(map[string]any{"op": "send", "topic": bus.RoomTopic(id), "data": map[string]string{"text": "back"}})
	})
	t.Run("limited_for", func(t *testing.T) {
		c := newCluster(t, "memory", 1, livetest.Fast())
		c.EndAccess(rooms.AccessLimitedFor, time.Hour)
		id, link := c.Session(rooms.CreateRequest{Tasks: []rooms.TaskTemplate{{Kind: "sign", Title: "Sign"}}})
		topic := bus.RoomTopic(id)
		agent := c.Agent(c.Nodes[0], id)
		cust := c.Customer(c.Nodes[0], id, link)
		_, err := c.Service().Sessions.End(ctx, c.Alex, id)
		c.Must(err)
		cust.Await("session.ended", livetest.IsEvent(topic, rooms.EventSessionEnded))
		r := cust.Call(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "hello?"}})
		if r.Status != "error" || r.Map()["code"] != hub.CodeReadOnly {
			t.Fatalf("send while read-only: %s", r.Raw)
		}
		sess, err := c.Service().Store().Session(ctx, id)
		c.Must(err)
		r = cust.Call(map[string]any{"op": "complete_task", "topic": topic, "data": map[string]any{"task_id": sess.Tasks[0].ID}})
		if r.Status != "error" || r.Map()["code"] != hub.CodeReadOnly {
			t.Fatalf("complete_task while read-only: %s", r.Raw)
		}
		// The window runs out: the customer is closed with 4010.
		c.Clock.Advance(2 * time.Hour)
		if code := cust.AwaitClose(); code != hub.CloseEnded {
			t.Fatalf("closed with %d after the window, want 4010", code)
		}
		agent.OK(map[string]any{"op": "ping"})
	})
	t.Run("full", func(t *testing.T) {
		c := newCluster(t, "memory", 1, livetest.Fast())
		c.EndAccess(rooms.AccessFull, 0)
		id, link := c.Session(rooms.CreateRequest{})
		cust := c.Customer(c.Nodes[0], id, link)
		_, err := c.Service().Sessions.End(ctx, c.Alex, id)
		c.Must(err)
		cust.Await("session.ended", livetest.IsEvent(bus.RoomTopic(id), rooms.EventSessionEnded))
		cust.OK(map[string]any{"op": "send", "topic": bus.RoomTopic(id), "data": map[string]string{"text": "still here"}})
	})
}

// Re-engage before the customer ever joined: the agent's room sees it,
// and the old link no longer opens a connection.
func TestReengageLive(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "memory", 1, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{})
	agent := c.Agent(c.Nodes[0], id)
	_, err := c.Service().Sessions.Reengage(ctx, c.Alex, id, rooms.Customer{Name: "Casey", Email: "casey.new@example.com"})
	c.Must(err)
	agent.Await("customer.reengaged", livetest.IsEvent(bus.RoomTopic(id), rooms.EventReengaged))
	_, resp, err := c.Nodes[0].TryDial(t, wsclient.Customer(link, ""), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("old link after re-engage: %v %v", err, resp)
	}
}

// Tasks assigned over REST reach the customer live; the customer's
// completion reaches the agent, with a status, and the agent's inbox on
// another node.
func TestTasksAndInboxLive(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "redis", 2, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	agent := c.Agent(c.Nodes[0], id)
	inbox := c.Nodes[0].Dial(t, wsclient.Agent(c.Tokens["alex"]))
	inbox.OK(map[string]any{"op": "join", "topic": hub.Inbox})
	cust := c.Customer(c.Nodes[1], id, link)
	agent.Await("online", livetest.IsStatus(topic, livetest.Online(true)))

	task, err := c.Service().Sessions.AddTask(ctx, c.Alex, id, rooms.TaskRequest{Kind: "custom", Title: "Call us back"})
	c.Must(err)
	cust.Await("task.assigned", livetest.IsEvent(topic, rooms.EventTaskAssigned))
	cust.OK(map[string]any{"op": "complete_task", "topic": topic, "data": map[string]any{"task_id": task.ID, "result": map[string]bool{"signed": true}}})
	agent.Await("task.completed", livetest.IsEvent(topic, rooms.EventTaskCompleted))
	agent.Await("online_completed", livetest.IsStatus(topic, func(d map[string]any) bool { return d["state"] == rooms.OnlineCompleted }))
	up := inbox.Await("session.updated", livetest.IsEvent(hub.Inbox, "session.updated"))
	if s, _ := up.Map()["session"].(map[string]any); s["id"] != id || s["updated"] != true {
		t.Fatalf("inbox update %s", up.Raw)
	}
}

// Typing is forwarded to the other side, at most once per 2 s per
// connection.
func TestTypingThrottled(t *testing.T) {
	c := newCluster(t, "memory", 1, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	agent := c.Agent(c.Nodes[0], id)
	cust := c.Customer(c.Nodes[0], id, link)
	cust.MustWrite(map[string]any{"op": "typing", "topic": topic})
	cust.MustWrite(map[string]any{"op": "typing", "topic": topic})
	cust.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "done typing"}})
	agent.Await("message", livetest.IsEvent(topic, rooms.EventMessage))
	typing := agent.All(func(f livetest.Frame) bool { return f.Op == "typing" })
	if len(typing) != 1 || typing[0].Map()["role"] != "customer" {
		t.Fatalf("typing frames %v", typing)
	}
	if got := cust.All(func(f livetest.Frame) bool { return f.Op == "typing" }); len(got) != 0 {
		t.Fatalf("customer got its own typing: %v", got)
	}
}

// SIGTERM: the node closes its sockets with 1012 and the customer who
// moves to another node within the grace never shows offline.
func TestGracefulRestart(t *testing.T) {
	cfg := livetest.Fast()
	c := newCluster(t, "redis", 2, cfg)
	l := c.Live(0, 1)
	id, link, topic, agent, cust := l.ID, l.Link, l.Topic, l.Agent, l.Cust

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Nodes[1].Hub.Shutdown(ctx) }()
	if code := cust.AwaitClose(); code != hub.CloseRestarting {
		t.Fatalf("closed with %d, want 1012", code)
	}
	c.Customer(c.Nodes[0], id, link)
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	time.Sleep(cfg.LeaveGrace + 5*cfg.Tick) // asserting an absence
	if f, ok := agent.Within(0, livetest.IsStatus(topic, livetest.Online(false))); ok {
		t.Fatalf("offline across a restart: %s", f.Raw)
	}
}

// A PIN-gated session: the link alone does not open the room; the agent
// in the room sees authentication and consent change live; the customer
// token the gates give does.
func TestGatesLive(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "redis", 2, livetest.Fast())
	c.Gate()
	id, link := c.Session(rooms.CreateRequest{PIN: "246813"})
	topic := bus.RoomTopic(id)
	agent := c.Agent(c.Nodes[0], id)

	_, resp, err := c.Nodes[1].TryDial(t, wsclient.Customer(link, ""), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("link without its gates: %v %v", err, resp)
	}
	verified, err := c.Service().Gates.Verify(ctx, link, "", "", "246813")
	c.Must(err)
	agent.Await("verified", livetest.IsStatus(topic, func(d map[string]any) bool { return d["authentication"] == rooms.AuthVerified }))
	out, err := c.Service().Gates.GiveConsent(ctx, link, verified.Token(), true)
	c.Must(err)
	agent.Await("accepted", livetest.IsStatus(topic, func(d map[string]any) bool { return d["consent"] == rooms.ConsentAccepted }))
	if _, resp, err := c.Nodes[1].TryDial(t, wsclient.Customer(link, ""), nil); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("gates passed but no customer token: %v %v", err, resp)
	}
	cust := c.Nodes[1].Dial(t, wsclient.Customer(link, out.CustomerToken))
	cust.OK(map[string]any{"op": "join", "topic": topic})
	agent.Await("online", livetest.IsStatus(topic, livetest.Online(true)))
	cust.OK(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "only for my agent"}})

	// The review's repro: the same link in another browser, with a wrong
	// PIN, used to get a working token and replay the transcript.
	if _, err := c.Service().Gates.Verify(ctx, link, "", "", "000000"); !errors.Is(err, rooms.ErrBadCredential) {
		t.Fatalf("a wrong PIN after the customer passed: %v", err)
	}
	if _, err := c.Service().Gates.GiveConsent(ctx, link, "", true); !errors.Is(err, rooms.ErrForbidden) {
		t.Fatalf("consent without authentication after the customer passed: %v", err)
	}
	for _, forged := range []string{"", verified.Token(), "v1.x.ac.forged"} {
		if _, resp, err := c.Nodes[0].TryDial(t, wsclient.Customer(link, forged), nil); err == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("joined with token %q: %v %v", forged, err, resp)
		}
	}
	// The customer's own cookie, named for its session, opens the room.
	h := http.Header{"Cookie": {rooms.CustomerCookie(id) + "=" + out.CustomerToken}}
	again, _, err := c.Nodes[0].TryDial(t, wsclient.Customer(link, ""), h)
	c.Must(err)
	again.OK(map[string]any{"op": "join", "topic": topic})
}

// Credentials and access are checked again on open connections: a
// logout closes with 4001, a supervisor demoted out of a room with 4003.
func TestRecheckClosesLive(t *testing.T) {
	ctx := context.Background()
	cfg := livetest.Fast()
	cfg.RecheckEvery = 1
	c := newCluster(t, "memory", 1, cfg)
	id, _ := c.Session(rooms.CreateRequest{})

	agent := c.Agent(c.Nodes[0], id)
	c.Must(c.Service().Accounts.Logout(ctx, c.Tokens["alex"]))
	if code := agent.AwaitClose(); code != hub.CloseCredential {
		t.Fatalf("after logout: closed with %d, want 4001", code)
	}

	promote := func(role string) {
		_, err := c.Service().Accounts.UpdateAgent(ctx, c.Blake.ID, rooms.AgentInput{Agent: rooms.Agent{
			Email: c.Blake.Email, Name: c.Blake.Name, Role: role, TeamID: c.Blake.TeamID, SettingsTeamIDs: []string{}}})
		c.Must(err)
	}
	promote(rooms.RoleSupervisor)
	sup := c.Nodes[0].Dial(t, wsclient.Agent(c.Tokens["blake"]))
	sup.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	promote(rooms.RoleAgent)
	if code := sup.AwaitClose(); code != hub.CloseLostAccess {
		t.Fatalf("after losing access: closed with %d, want 4003", code)
	}
}

// Account changes reach open connections at once, on every node, through
// the bus: the minute's re-check is set far away, so only the bus can
// close them in time.
func TestAccountChangesCloseAtOnce(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			cfg := livetest.Fast()
			cfg.RecheckEvery = 1000
			c := newCluster(t, backend, 2, cfg)
			id, _ := c.Session(rooms.CreateRequest{})
			update := func(a *rooms.Agent, role, password string, disabled bool) {
				t.Helper()
				_, err := c.Service().Accounts.UpdateAgent(ctx, a.ID, rooms.AgentInput{Agent: rooms.Agent{
					Email: a.Email, Name: a.Name, Role: role, TeamID: a.TeamID, SettingsTeamIDs: []string{},
					Disabled: disabled}, Password: password})
				c.Must(err)
			}

			// A new password, set on node 1, ends alex's login on node 2.
			agent := c.Agent(c.Nodes[1], id)
			update(c.Alex, rooms.RoleAgent, "a-brand-new-password", false)
			if code := agent.AwaitClose(); code != hub.CloseCredential {
				t.Fatalf("after a new password: closed with %d, want 4001", code)
			}
			if _, err := c.Nodes[1].Service.Accounts.Authenticate(ctx, c.Tokens["alex"]); err == nil {
				t.Fatal("the old token still works after a new password")
			}

			// A supervisor demoted out of the room: 4003 at once.
			update(c.Blake, rooms.RoleSupervisor, "", false)
			sup := c.Nodes[1].Dial(t, wsclient.Agent(c.Tokens["blake"]))
			sup.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
			update(c.Blake, rooms.RoleAgent, "", false)
			if code := sup.AwaitClose(); code != hub.CloseLostAccess {
				t.Fatalf("after losing the room: closed with %d, want 4003", code)
			}

			// Disabled: every connection closes with 4001.
			other := c.Nodes[0].Dial(t, wsclient.Agent(c.Tokens["blake"]))
			other.OK(map[string]any{"op": "join", "topic": "inbox"})
			update(c.Blake, rooms.RoleAgent, "", true)
			if code := other.AwaitClose(); code != hub.CloseCredential {
				t.Fatalf("after disabling: closed with %d, want 4001", code)
			}
		})
	}
}

// Signing out everywhere closes every open connection of the caller.
func TestLogoutAllClosesEveryConnection(t *testing.T) {
	ctx := context.Background()
	cfg := livetest.Fast()
	cfg.RecheckEvery = 1000
	c := newCluster(t, "redis", 2, cfg)
	second, _, err := c.Service().Accounts.Login(ctx, c.Alex.Email, "correct-horse-battery", "127.0.0.1")
	c.Must(err)
	one := c.Nodes[0].Dial(t, wsclient.Agent(c.Tokens["alex"]))
	one.OK(map[string]any{"op": "join", "topic": "inbox"})
	two := c.Nodes[1].Dial(t, wsclient.Agent(second))
	two.OK(map[string]any{"op": "join", "topic": "inbox"})
	bystander := c.Nodes[1].Dial(t, wsclient.Agent(c.Tokens["blake"]))
	bystander.OK(map[string]any{"op": "join", "topic": "inbox"})

	c.Must(c.Service().Accounts.LogoutAll(ctx, c.Alex))
	for i, cl := range []*livetest.Client{one, two} {
		if code := cl.AwaitClose(); code != hub.CloseCredential {
			t.Fatalf("connection %d closed with %d, want 4001", i, code)
		}
	}
	// Another agent's connection is untouched: it still answers.
	bystander.OK(map[string]any{"op": "ping"})
}
