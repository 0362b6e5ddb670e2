package boltqueue_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/boltstore"
	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/boltqueue"
	"github.com/cohub/cohub/webhooks/queuetest"
)

// open opens the embedded store's file at path and the queue in it, as
// the disk backend does; the test's end closes it.
func open(t *testing.T, path string) (*boltstore.Store, *boltqueue.Store) {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	q, err := boltqueue.New(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	return st, q
}

func TestContract(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) webhooks.Store {
		_, q := open(t, filepath.Join(t.TempDir(), "cohub.db"))
		return q
	})
}

// A restart keeps the endpoint, its pending delivery, and the lease of
// the claim taken before it.
func TestReopenKeepsEndpointsAndDeliveries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cohub.db")
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	st, q := open(t, path)
	must(t, q.SaveEndpoint(ctx, &webhooks.Endpoint{ID: "wh_01", URL: "https://example.com/a", Enabled: true,
		CreatedAt: t0, Secret: "whsec_AAAA"}))
	must(t, q.Enqueue(ctx, []webhooks.Delivery{{ID: "dlv_01", EndpointID: "wh_01", WebhookID: "msg_1",
		Type: webhooks.SessionEnded, Timestamp: t0, Status: webhooks.StatusPending, NextAttemptAt: &t0,
		GiveUpAt: t0.Add(24 * time.Hour), CreatedAt: t0, Payload: []byte(`{}`)}}))
	if cs, err := q.Claim(ctx, t0, time.Minute, 10); err != nil || len(cs) != 1 {
		t.Fatalf("claim = %v, %v", cs, err)
	}
	must(t, st.Close())

	_, q = open(t, path)
	e, err := q.Endpoint(ctx, "wh_01")
	if err != nil || e.Secret != "whsec_AAAA" {
		t.Fatalf("endpoint after reopening = %+v, %v", e, err)
	}
	d, err := q.Delivery(ctx, "wh_01", "dlv_01")
	if err != nil || d.Status != webhooks.StatusPending || string(d.Payload) != `{}` {
		t.Fatalf("delivery after reopening = %+v, %v", d, err)
	}
	if cs, _ := q.Claim(ctx, t0.Add(30*time.Second), time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed within the lease taken before the restart: %v", cs)
	}
	cs, err := q.Claim(ctx, t0.Add(time.Minute), time.Minute, 10)
	if err != nil || len(cs) != 1 || cs[0].Delivery.ID != "dlv_01" {
		t.Fatalf("claim after the lease = %v, %v", cs, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The log keeps its last LogLength finished deliveries and every pending
// one: a finished delivery past the length goes, pending ones stay.
func TestLogTrimsFinished(t *testing.T) {
	ctx := context.Background()
	_, q := open(t, filepath.Join(t.TempDir(), "cohub.db"))
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	delivery := func(n int) webhooks.Delivery {
		return webhooks.Delivery{ID: fmt.Sprintf("dlv_%04d", n), EndpointID: "wh_01", Timestamp: t0.Add(time.Duration(n) * time.Second),
			Status: webhooks.StatusPending, NextAttemptAt: &t0}
	}
	must(t, q.Enqueue(ctx, []webhooks.Delivery{delivery(0)}))
	cs, err := q.Claim(ctx, t0, time.Minute, 1)
	must(t, err)
	d := cs[0].Delivery
	d.Status, d.NextAttemptAt = webhooks.StatusDelivered, nil
	if ok, err := q.Finish(ctx, cs[0].Token, d); !ok || err != nil {
		t.Fatalf("finish = %v, %v", ok, err)
	}
	var more []webhooks.Delivery
	for n := 1; n <= webhooks.LogLength; n++ {
		more = append(more, delivery(n))
	}
	must(t, q.Enqueue(ctx, more))
	ds, err := q.Deliveries(ctx, "wh_01", 2*webhooks.LogLength)
	must(t, err)
	if len(ds) != webhooks.LogLength || ds[len(ds)-1].ID != "dlv_0001" {
		t.Fatalf("log: %d deliveries, the oldest %s", len(ds), ds[len(ds)-1].ID)
	}
	if _, err := q.Delivery(ctx, "wh_01", "dlv_0000"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("trimmed delivery: %v", err)
	}
	must(t, q.Enqueue(ctx, []webhooks.Delivery{delivery(webhooks.LogLength + 1)}))
	if ds, _ = q.Deliveries(ctx, "wh_01", 2*webhooks.LogLength); len(ds) != webhooks.LogLength+1 {
		t.Fatalf("pending deliveries trimmed: %d left", len(ds))
	}
}
