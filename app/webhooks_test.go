package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/webhooktest"
)

const wait = 15 * time.Second

// TestSessionWebhooks: a session's life reaches an endpoint as webhooks,
// each signed, in order, with the session's id; task.completed names
// the kept file and its SHA-256.
func TestSessionWebhooks(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			c := livetest.NewCluster(t, backend, 1, livetest.Fast())
			rcv := webhooktest.NewReceiver(t)
			ep := webhooktest.Register(t, c.Nodes[0].App.Webhooks, rcv.URL)
			ctx := context.Background()
			svc := c.Service()
			id, link := c.Session(rooms.CreateRequest{})
			_, err := svc.Gates.CustomerJoined(ctx, id)
			c.Must(err)
			task, err := svc.Sessions.AddTask(ctx, c.Alex, id, rooms.TaskRequest{Kind: "form", Title: "Address",
				TaskContent: rooms.TaskContent{Fields: []rooms.FormField{{Name: "street", Label: "Street", Type: "text"}}}})
			c.Must(err)
			_, err = svc.Files.SubmitForm(ctx, link, "", task.ID, map[string]any{"street": "1 Main St"})
			c.Must(err)
			_, err = svc.Sessions.End(ctx, c.Alex, id)
			c.Must(err)
			_, err = svc.Sessions.Renew(ctx, c.Alex, id)
			c.Must(err)
			assets, err := svc.Files.SessionAssets(ctx, c.Alex, id)
			c.Must(err)
			form := assets[slices.IndexFunc(assets, func(a *rooms.Asset) bool { return a.TaskID == task.ID })]

			want := []string{webhooks.SessionCreated, webhooks.InvitationSent, webhooks.CustomerJoined, webhooks.TaskAssigned,
				webhooks.TaskCompleted, webhooks.SessionEnded, webhooks.SessionRenewed}
			var last time.Time
			for _, typ := range want {
				got := rcv.Next(t, wait)
				if err := webhooktest.Verify(ep.Secret, got, time.Now(), 5*time.Minute); err != nil {
					t.Fatal(err)
				}
				gotType, data, at := got.Event(t)
				if gotType != typ || data["session_id"] != id || at.Before(last) {
					t.Fatalf("got %s, want %s of %s after %s", got.Body, typ, id, last)
				}
				last = at
				if typ == webhooks.TaskCompleted {
					files, _ := data["files"].([]any)
					want := fmt.Sprintf("[map[id:%s sha256:%s]]", form.ID, form.SHA256)
					if len(form.SHA256) != 64 || fmt.Sprint(files) != want || data["task_id"] != task.ID {
						t.Fatalf("task.completed says %v, want %s", data, want)
					}
				}
			}
		})
	}
}

// tagged marks each node's attempts with the node's name.
type tagged struct {
	node string
	next http.RoundTripper
}

func (t tagged) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set("X-Test-Node", t.node)
	return t.next.RoundTrip(r)
}

// TestKilledNodeMidDelivery: two nodes on Redis; the node that claimed
// a delivery dies while the receiver holds the request open; the other
// node makes the attempt once the claim's lease ends, with the same
// webhook-id, and the delivery is delivered once recorded.
func TestKilledNodeMidDelivery(t *testing.T) {
	nodes := 0
	c := livetest.NewClusterWith(t, "redis", 2, livetest.Fast(), livetest.Options{Webhooks: func(o *webhooks.Options) {
		nodes++
		client := *webhooks.Client(10*time.Second, true)
		client.Transport = tagged{node: fmt.Sprint("node", nodes), next: client.Transport}
		o.Client, o.Lease, o.Poll = &client, time.Second, 50*time.Millisecond
	}})
	rcv := webhooktest.NewReceiver(t)
	rcv.Answer(func(n int) int {
		if n == 1 {
			return 0 // held open until its sender goes
		}
		return http.StatusNoContent
	})
	hooks := c.Nodes[0].App.Webhooks
	ep := webhooktest.Register(t, hooks, rcv.URL)
	c.Must(hooks.Emit(context.Background(), webhooks.Event{Type: webhooks.SessionEnded, Timestamp: time.Now(),
		Data: map[string]any{"session_id": "s_1"}}))
	held := rcv.Next(t, wait)
	claimer := held.Header.Get("X-Test-Node")
	other := map[string]int{"node1": 1, "node2": 0}[claimer]
	c.Nodes[1-other].Kill()
	again := rcv.Next(t, wait)
	if again.ID != held.ID || again.Header.Get("X-Test-Node") == claimer || again.Header.Get("X-Test-Node") == "" {
		t.Fatalf("held %s by %s; then %s by %s", held.ID, claimer, again.ID, again.Header.Get("X-Test-Node"))
	}
	if err := webhooktest.Verify(ep.Secret, again, time.Now(), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	survivor := c.Nodes[other].App.Webhooks
	deadline := time.Now().Add(wait)
	for {
		ds, err := survivor.Deliveries(context.Background(), ep.ID, 10)
		c.Must(err)
		if len(ds) == 1 && ds[0].Status == webhooks.StatusDelivered {
			if ds[0].Attempts != 1 || ds[0].WebhookID != held.ID {
				t.Fatalf("delivery %+v", ds[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %+v", ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
