package hub_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/rooms"
)

func (c *cluster) endAccess(mode string, d time.Duration) {
	ctx := context.Background()
	set, err := c.svc().Store().Settings(ctx)
	c.must(err)
	set.EndSessionAccess = rooms.EndAccess{Mode: mode, Duration: rooms.Duration(d)}
	_, err = c.svc().Accounts.PutSettings(ctx, set)
	c.must(err)
}

// End, as each access mode says, seen through live connections; renew
// brings the room back.
func TestEndAndRenewLive(t *testing.T) {
	ctx := context.Background()
	t.Run("none", func(t *testing.T) {
		c := newCluster(t, "redis", 2, fast())
		c.endAccess(rooms.AccessNone, 0)
		id, link := c.session(rooms.CreateRequest{})
		agent := c.agent(c.nodes[0], id)
		cust := c.customer(c.nodes[1], id, link)
		_, err := c.svc().Sessions.End(ctx, c.alex, id)
		c.must(err)
		agent.await("session.ended", isEvent(bus.RoomTopic(id), rooms.EventSessionEnded))
		if code := cust.closeStatus(); code != hub.CloseEnded {
			t.Fatalf("customer closed with %d, want 4010", code)
		}
		_, resp, err := c.nodes[1].tryDial(t, "link="+link, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusGone {
			t.Fatalf("link after end with no access: %v %v", err, resp)
		}
		_, err = c.svc().Sessions.Renew(ctx, c.alex, id)
		c.must(err)
		agent.await("session.renewed", isEvent(bus.RoomTopic(id), rooms.EventSessionRenewed))
		back := c.customer(c.nodes[1], id, link)
		back.ok(map[string]any{"op": "send", "topic": bus.RoomTopic(id), "data": map[string]string{"text": "back"}})
	})
	t.Run("limited_for", func(t *testing.T) {
		c := newCluster(t, "memory", 1, fast())
		c.endAccess(rooms.AccessLimitedFor, time.Hour)
		id, link := c.session(rooms.CreateRequest{Tasks: []rooms.TaskTemplate{{Kind: "sign", Title: "Sign"}}})
		topic := bus.RoomTopic(id)
		agent := c.agent(c.nodes[0], id)
		cust := c.customer(c.nodes[0], id, link)
		_, err := c.svc().Sessions.End(ctx, c.alex, id)
		c.must(err)
		cust.await("session.ended", isEvent(topic, rooms.EventSessionEnded))
		r := cust.call(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "hello?"}})
		if r.Status != "error" || r.data()["code"] != hub.CodeReadOnly {
			t.Fatalf("send while read-only: %s", r.raw)
		}
		sess, err := c.svc().Store().Session(ctx, id)
		c.must(err)
		r = cust.call(map[string]any{"op": "complete_task", "topic": topic, "data": map[string]any{"task_id": sess.Tasks[0].ID}})
		if r.Status != "error" || r.data()["code"] != hub.CodeReadOnly {
			t.Fatalf("complete_task while read-only: %s", r.raw)
		}
		// The window runs out: the customer is closed with 4010.
		c.clock.Advance(2 * time.Hour)
		if code := cust.closeStatus(); code != hub.CloseEnded {
			t.Fatalf("closed with %d after the window, want 4010", code)
		}
		agent.ok(map[string]any{"op": "ping"})
	})
	t.Run("full", func(t *testing.T) {
		c := newCluster(t, "memory", 1, fast())
		c.endAccess(rooms.AccessFull, 0)
		id, link := c.session(rooms.CreateRequest{})
		cust := c.customer(c.nodes[0], id, link)
		_, err := c.svc().Sessions.End(ctx, c.alex, id)
		c.must(err)
		cust.await("session.ended", isEvent(bus.RoomTopic(id), rooms.EventSessionEnded))
		cust.ok(map[string]any{"op": "send", "topic": bus.RoomTopic(id), "data": map[string]string{"text": "still here"}})
	})
}

// Re-engage before the customer ever joined: the agent's room sees it,
// and the old link no longer opens a connection.
func TestReengageLive(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "memory", 1, fast())
	id, link := c.session(rooms.CreateRequest{})
	agent := c.agent(c.nodes[0], id)
	_, err := c.svc().Sessions.Reengage(ctx, c.alex, id, rooms.Customer{Name: "Casey", Email: "casey.new@example.com"})
	c.must(err)
	agent.await("customer.reengaged", isEvent(bus.RoomTopic(id), rooms.EventReengaged))
	_, resp, err := c.nodes[0].tryDial(t, "link="+link, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("old link after re-engage: %v %v", err, resp)
	}
}

// Tasks assigned over REST reach the customer live; the customer's
// completion reaches the agent, with a status, and the agent's inbox on
// another node.
func TestTasksAndInboxLive(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "redis", 2, fast())
	id, link := c.session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	agent := c.agent(c.nodes[0], id)
	inbox := c.nodes[0].dial(t, "access_token="+c.tokens["alex"])
	inbox.ok(map[string]any{"op": "join", "topic": hub.Inbox})
	cust := c.customer(c.nodes[1], id, link)
	agent.await("online", isStatus(topic, online(true)))

	task, err := c.svc().Sessions.AddTask(ctx, c.alex, id, rooms.TaskRequest{Kind: "custom", Title: "Call us back"})
	c.must(err)
	cust.await("task.assigned", isEvent(topic, rooms.EventTaskAssigned))
	cust.ok(map[string]any{"op": "complete_task", "topic": topic, "data": map[string]any{"task_id": task.ID, "result": map[string]bool{"signed": true}}})
	agent.await("task.completed", isEvent(topic, rooms.EventTaskCompleted))
	agent.await("online_completed", isStatus(topic, func(d map[string]any) bool { return d["state"] == rooms.OnlineCompleted }))
	up := inbox.await("session.updated", isEvent(hub.Inbox, "session.updated"))
	if s, _ := up.data()["session"].(map[string]any); s["id"] != id || s["updated"] != true {
		t.Fatalf("inbox update %s", up.raw)
	}
}

// Typing is forwarded to the other side, at most once per 2 s per
// connection.
func TestTypingThrottled(t *testing.T) {
	c := newCluster(t, "memory", 1, fast())
	id, link := c.session(rooms.CreateRequest{})
	topic := bus.RoomTopic(id)
	agent := c.agent(c.nodes[0], id)
	cust := c.customer(c.nodes[0], id, link)
	cust.send(map[string]any{"op": "typing", "topic": topic})
	cust.send(map[string]any{"op": "typing", "topic": topic})
	cust.ok(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "done typing"}})
	agent.await("message", isEvent(topic, rooms.EventMessage))
	typing := agent.all(func(f frame) bool { return f.Op == "typing" })
	if len(typing) != 1 || typing[0].data()["role"] != "customer" {
		t.Fatalf("typing frames %v", typing)
	}
	if got := cust.all(func(f frame) bool { return f.Op == "typing" }); len(got) != 0 {
		t.Fatalf("customer got its own typing: %v", got)
	}
}

// SIGTERM: the node closes its sockets with 1012 and the customer who
// moves to another node within the grace never shows offline.
func TestGracefulRestart(t *testing.T) {
	cfg := fast()
	c := newCluster(t, "redis", 2, cfg)
	l := c.live(0, 1)
	id, link, topic, agent, cust := l.id, l.link, l.topic, l.agent, l.cust

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.nodes[1].node.Shutdown(ctx) }()
	if code := cust.closeStatus(); code != hub.CloseRestarting {
		t.Fatalf("closed with %d, want 1012", code)
	}
	c.customer(c.nodes[0], id, link)
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	time.Sleep(cfg.LeaveGrace + 5*cfg.Tick) // asserting an absence
	if f, ok := agent.within(0, isStatus(topic, online(false))); ok {
		t.Fatalf("offline across a restart: %s", f.raw)
	}
}

// A PIN-gated session: the link alone does not open the room; the agent
// in the room sees authentication and consent change live; the customer
// token the gates give does.
func TestGatesLive(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "redis", 2, fast())
	c.gate()
	id, link := c.session(rooms.CreateRequest{PIN: "246813"})
	topic := bus.RoomTopic(id)
	agent := c.agent(c.nodes[0], id)

	_, resp, err := c.nodes[1].tryDial(t, "link="+link, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("link without its gates: %v %v", err, resp)
	}
	verified, err := c.svc().Gates.Verify(ctx, link, "", "", "246813")
	c.must(err)
	agent.await("verified", isStatus(topic, func(d map[string]any) bool { return d["authentication"] == rooms.AuthVerified }))
	out, err := c.svc().Gates.GiveConsent(ctx, link, verified.Token(), true)
	c.must(err)
	agent.await("accepted", isStatus(topic, func(d map[string]any) bool { return d["consent"] == rooms.ConsentAccepted }))
	if _, resp, err := c.nodes[1].tryDial(t, "link="+link, nil); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("gates passed but no customer token: %v %v", err, resp)
	}
	cust := c.nodes[1].dial(t, "link="+link+"&customer_token="+out.CustomerToken)
	cust.ok(map[string]any{"op": "join", "topic": topic})
	agent.await("online", isStatus(topic, online(true)))
	cust.ok(map[string]any{"op": "send", "topic": topic, "data": map[string]string{"text": "only for my agent"}})

	// The review's repro: the same link in another browser, with a wrong
	// PIN, used to get a working token and replay the transcript.
	if _, err := c.svc().Gates.Verify(ctx, link, "", "", "000000"); !errors.Is(err, rooms.ErrBadCredential) {
		t.Fatalf("a wrong PIN after the customer passed: %v", err)
	}
	if _, err := c.svc().Gates.GiveConsent(ctx, link, "", true); !errors.Is(err, rooms.ErrForbidden) {
		t.Fatalf("consent without authentication after the customer passed: %v", err)
	}
	for _, forged := range []string{"", verified.Token(), "v1.x.ac.forged"} {
		if _, resp, err := c.nodes[0].tryDial(t, "link="+link+"&customer_token="+forged, nil); err == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("joined with token %q: %v %v", forged, err, resp)
		}
	}
	// The customer's own cookie, named for its session, opens the room.
	h := http.Header{"Cookie": {rooms.CustomerCookie(id) + "=" + out.CustomerToken}}
	again, _, err := c.nodes[0].tryDial(t, "link="+link, h)
	c.must(err)
	again.ok(map[string]any{"op": "join", "topic": topic})
}

// Credentials and access are checked again on open connections: a
// logout closes with 4001, a supervisor demoted out of a room with 4003.
func TestRecheckClosesLive(t *testing.T) {
	ctx := context.Background()
	cfg := fast()
	cfg.RecheckEvery = 1
	c := newCluster(t, "memory", 1, cfg)
	id, _ := c.session(rooms.CreateRequest{})

	agent := c.agent(c.nodes[0], id)
	c.must(c.svc().Accounts.Logout(ctx, c.tokens["alex"]))
	if code := agent.closeStatus(); code != hub.CloseCredential {
		t.Fatalf("after logout: closed with %d, want 4001", code)
	}

	promote := func(role string) {
		_, err := c.svc().Accounts.UpdateAgent(ctx, c.blake.ID, rooms.AgentInput{Agent: rooms.Agent{
			Email: c.blake.Email, Name: c.blake.Name, Role: role, TeamID: c.blake.TeamID, SettingsTeamIDs: []string{}}})
		c.must(err)
	}
	promote(rooms.RoleSupervisor)
	sup := c.nodes[0].dial(t, "access_token="+c.tokens["blake"])
	sup.ok(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	promote(rooms.RoleAgent)
	if code := sup.closeStatus(); code != hub.CloseLostAccess {
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
			cfg := fast()
			cfg.RecheckEvery = 1000
			c := newCluster(t, backend, 2, cfg)
			id, _ := c.session(rooms.CreateRequest{})
			update := func(a *rooms.Agent, role, password string, disabled bool) {
				t.Helper()
				_, err := c.svc().Accounts.UpdateAgent(ctx, a.ID, rooms.AgentInput{Agent: rooms.Agent{
					Email: a.Email, Name: a.Name, Role: role, TeamID: a.TeamID, SettingsTeamIDs: []string{},
					Disabled: disabled}, Password: password})
				c.must(err)
			}

			// A new password, set on node 1, ends alex's login on node 2.
			agent := c.agent(c.nodes[1], id)
			update(c.alex, rooms.RoleAgent, "a-brand-new-password", false)
			if code := agent.closeStatus(); code != hub.CloseCredential {
				t.Fatalf("after a new password: closed with %d, want 4001", code)
			}
			if _, err := c.nodes[1].svc.Accounts.Authenticate(ctx, c.tokens["alex"]); err == nil {
				t.Fatal("the old token still works after a new password")
			}

			// A supervisor demoted out of the room: 4003 at once.
			update(c.blake, rooms.RoleSupervisor, "", false)
			sup := c.nodes[1].dial(t, "access_token="+c.tokens["blake"])
			sup.ok(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
			update(c.blake, rooms.RoleAgent, "", false)
			if code := sup.closeStatus(); code != hub.CloseLostAccess {
				t.Fatalf("after losing the room: closed with %d, want 4003", code)
			}

			// Disabled: every connection closes with 4001.
			other := c.nodes[0].dial(t, "access_token="+c.tokens["blake"])
			other.ok(map[string]any{"op": "join", "topic": "inbox"})
			update(c.blake, rooms.RoleAgent, "", true)
			if code := other.closeStatus(); code != hub.CloseCredential {
				t.Fatalf("after disabling: closed with %d, want 4001", code)
			}
		})
	}
}

// Signing out everywhere closes every open connection of the caller.
func TestLogoutAllClosesEveryConnection(t *testing.T) {
	ctx := context.Background()
	cfg := fast()
	cfg.RecheckEvery = 1000
	c := newCluster(t, "redis", 2, cfg)
	second, _, err := c.svc().Accounts.Login(ctx, c.alex.Email, "correct-horse-battery", "127.0.0.1")
	c.must(err)
	one := c.nodes[0].dial(t, "access_token="+c.tokens["alex"])
	one.ok(map[string]any{"op": "join", "topic": "inbox"})
	two := c.nodes[1].dial(t, "access_token="+second)
	two.ok(map[string]any{"op": "join", "topic": "inbox"})
	bystander := c.nodes[1].dial(t, "access_token="+c.tokens["blake"])
	bystander.ok(map[string]any{"op": "join", "topic": "inbox"})

	c.must(c.svc().Accounts.LogoutAll(ctx, c.alex))
	for i, cl := range []*client{one, two} {
		if code := cl.closeStatus(); code != hub.CloseCredential {
			t.Fatalf("connection %d closed with %d, want 4001", i, code)
		}
	}
	// Another agent's connection is untouched: it still answers.
	bystander.ok(map[string]any{"op": "ping"})
}
