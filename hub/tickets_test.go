package hub_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
)

// ticket takes a ticket for cred from a node: the /ws query it opens.
func ticket(t *testing.T, tn *livetest.Node, cred wsclient.Credential) string {
	t.Helper()
	q, err := cred.Ticket(context.Background(), tn.Server.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// refused dials with a query and wants a 401 before the upgrade.
func refused(t *testing.T, tn *livetest.Node, query, why string) {
	t.Helper()
	if _, resp, err := tn.TryDialQuery(t, query, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("%s: err %v, resp %v; want 401", why, err, resp)
	}
}

// TestTicketsAcrossNodes: a ticket one node issued opens a socket on
// another (the store holds it, not the node), once: used again, on
// either node, it is refused. So is one a customer took, whose socket
// reaches that customer's room only.
func TestTicketsAcrossNodes(t *testing.T) {
	c := newCluster(t, "redis", 2, livetest.Fast())
	id, link := c.Session(rooms.CreateRequest{})
	otherID, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Email: "dana@example.com"}})

	q := ticket(t, c.Nodes[0], wsclient.Agent(c.Tokens["alex"]))
	agent, _, err := c.Nodes[1].TryDialQuery(t, q, nil)
	c.Must(err)
	agent.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	refused(t, c.Nodes[1], q, "a ticket used twice on one node")
	refused(t, c.Nodes[0], q, "a ticket used twice, on the node that issued it")

	q = ticket(t, c.Nodes[1], wsclient.Customer(link, ""))
	cust, _, err := c.Nodes[0].TryDialQuery(t, q, nil)
	c.Must(err)
	cust.OK(map[string]any{"op": "join", "topic": bus.RoomTopic(id)})
	agent.Await("online", livetest.IsStatus(bus.RoomTopic(id), livetest.Online(true)))
	if r := cust.Call(map[string]any{"op": "join", "topic": bus.RoomTopic(otherID)}); r.Status != "error" || r.Map()["code"] != "forbidden" {
		t.Fatalf("a customer's ticket opened another session's room: %s", r.Raw)
	}
	refused(t, c.Nodes[0], q, "a customer's ticket used twice")
}

// TestTicketBoundToItsCredential: a ticket stands for its credential,
// checked again when used: one taken before a logout, or before a
// re-engage replaced the link, opens nothing; a ticket past its 30 s
// (the service's clock) opens nothing.
func TestTicketBoundToItsCredential(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "memory", 1, livetest.Fast())
	tn := c.Nodes[0]
	id, link := c.Session(rooms.CreateRequest{})

	second, _, err := c.Service().Accounts.Login(ctx, "alex@cohub.test", "correct-horse-battery", "127.0.0.1")
	c.Must(err)
	q := ticket(t, tn, wsclient.Agent(second))
	c.Must(c.Service().Accounts.Logout(ctx, second))
	refused(t, tn, q, "a ticket of a login ended before it was used")

	q = ticket(t, tn, wsclient.Customer(link, ""))
	_, err = c.Service().Sessions.Reengage(ctx, c.Alex, id, rooms.Customer{Name: "Cara", Email: "cara.new@example.com"})
	c.Must(err)
	if _, resp, err := tn.TryDialQuery(t, q, nil); err == nil || resp == nil || resp.StatusCode/100 != 4 {
		t.Fatalf("a ticket of a replaced link opened a socket: %v %v", err, resp)
	}

	q = ticket(t, tn, wsclient.Agent(c.Tokens["alex"]))
	c.Clock.Advance(rooms.TicketTTL + time.Second)
	refused(t, tn, q, "a ticket past its 30 s")
	q = ticket(t, tn, wsclient.Agent(c.Tokens["alex"]))
	c.Clock.Advance(rooms.TicketTTL - time.Second)
	ok, _, err := tn.TryDialQuery(t, q, nil)
	c.Must(err)
	ok.OK(map[string]any{"op": "ping"})
}
