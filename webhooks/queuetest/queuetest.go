// Package queuetest is the one contract every webhooks store passes: the
// memory, bbolt and Redis engines run it, so the claim, lease and
// per-endpoint order the Redis engine runs in Lua and the bbolt engine
// keeps in its buckets answer as the memory engine's Go does.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

// Run is the suite; open gives each part a store of its own.
func Run(t *testing.T, open func(t *testing.T) webhooks.Store) {
	t.Run("endpoints", func(t *testing.T) { contractEndpoints(t, open(t)) })
	t.Run("order per endpoint", func(t *testing.T) { contractOrder(t, open(t)) })
	t.Run("lease", func(t *testing.T) { contractLease(t, open(t)) })
	t.Run("retry later", func(t *testing.T) { contractLater(t, open(t)) })
	t.Run("requeue", func(t *testing.T) { contractRequeue(t, open(t)) })
	t.Run("retry while the head is in flight", func(t *testing.T) { contractRetryInFlight(t, open(t)) })
	t.Run("log and delete", func(t *testing.T) { contractLog(t, open(t)) })
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func endpoint(t *testing.T, st webhooks.Store, id string) {
	t.Helper()
	must(t, st.SaveEndpoint(context.Background(), &webhooks.Endpoint{ID: id, URL: "https://example.com/" + id,
		Events: []string{}, Enabled: true, CreatedAt: t0, Secret: "whsec_AAAA"}))
}

// delivery n of endpoint ep: its event at t0 + n seconds, due at t0.
func delivery(ep string, n int) webhooks.Delivery {
	due := t0
	return webhooks.Delivery{ID: fmt.Sprintf("dlv_%s_%02d", ep, n), EndpointID: ep, WebhookID: fmt.Sprintf("msg_%d", n),
		Type: webhooks.SessionEnded, Timestamp: t0.Add(time.Duration(n) * time.Second), Status: webhooks.StatusPending,
		NextAttemptAt: &due, GiveUpAt: t0.Add(24 * time.Hour), CreatedAt: t0, Payload: []byte(`{"type":"session.ended"}`)}
}

func claimIDs(t *testing.T, st webhooks.Store, at time.Time) ([]string, []webhooks.Claim) {
	t.Helper()
	cs, err := st.Claim(context.Background(), at, time.Minute, 10)
	must(t, err)
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.Delivery.ID)
	}
	return ids, cs
}

func finish(t *testing.T, st webhooks.Store, c webhooks.Claim, status string, next *time.Time) bool {
	t.Helper()
	d := c.Delivery
	d.Status, d.NextAttemptAt = status, next
	d.Attempts++
	ok, err := st.Finish(context.Background(), c.Token, d)
	must(t, err)
	return ok
}

func contractEndpoints(t *testing.T, st webhooks.Store) {
	ctx := context.Background()
	endpoint(t, st, "wh_01")
	endpoint(t, st, "wh_02")
	e, err := st.Endpoint(ctx, "wh_01")
	must(t, err)
	if e.URL != "https://example.com/wh_01" || e.Secret != "whsec_AAAA" || !e.Enabled {
		t.Fatalf("endpoint = %+v", e)
	}
	e.Enabled, e.Events = false, []string{webhooks.TaskCompleted}
	must(t, st.SaveEndpoint(ctx, e))
	all, err := st.Endpoints(ctx)
	must(t, err)
	if len(all) != 2 || all[0].ID != "wh_01" || all[0].Enabled || len(all[0].Events) != 1 || all[1].ID != "wh_02" {
		t.Fatalf("endpoints = %+v", all)
	}
	must(t, st.DeleteEndpoint(ctx, "wh_01"))
	if _, err := st.Endpoint(ctx, "wh_01"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("deleted endpoint: %v", err)
	}
	if err := st.DeleteEndpoint(ctx, "wh_01"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("deleting again: %v", err)
	}
}

// Only an endpoint's oldest pending delivery is due, one per endpoint,
// whatever order they were queued in.
func contractOrder(t *testing.T, st webhooks.Store) {
	ctx := context.Background()
	endpoint(t, st, "a")
	endpoint(t, st, "b")
	must(t, st.Enqueue(ctx, []webhooks.Delivery{delivery("a", 2), delivery("a", 1), delivery("b", 5)}))
	must(t, st.Enqueue(ctx, []webhooks.Delivery{delivery("a", 3)}))
	ids, cs := claimIDs(t, st, t0)
	if len(ids) != 2 || !contains(ids, "dlv_a_01") || !contains(ids, "dlv_b_05") {
		t.Fatalf("first claim = %v", ids)
	}
	if again, _ := claimIDs(t, st, t0); len(again) != 0 {
		t.Fatalf("claimed again within the lease: %v", again)
	}
	for _, c := range cs {
		if !finish(t, st, c, webhooks.StatusDelivered, nil) {
			t.Fatalf("finish %s refused", c.Delivery.ID)
		}
	}
	for _, want := range []string{"dlv_a_02", "dlv_a_03"} {
		ids, cs = claimIDs(t, st, t0)
		if len(ids) != 1 || ids[0] != want {
			t.Fatalf("claim = %v, want %s", ids, want)
		}
		finish(t, st, cs[0], webhooks.StatusFailed, nil)
	}
	if ids, _ = claimIDs(t, st, t0.Add(48*time.Hour)); len(ids) != 0 {
		t.Fatalf("finished deliveries claimed: %v", ids)
	}
}

// A claim not finished by its lease's end comes due again, and the
// first claim's token no longer records anything.
func contractLease(t *testing.T, st webhooks.Store) {
	endpoint(t, st, "a")
	must(t, st.Enqueue(context.Background(), []webhooks.Delivery{delivery("a", 1)}))
	_, first := claimIDs(t, st, t0)
	if ids, _ := claimIDs(t, st, t0.Add(59*time.Second)); len(ids) != 0 {
		t.Fatalf("claimed during the lease: %v", ids)
	}
	ids, second := claimIDs(t, st, t0.Add(time.Minute))
	if len(ids) != 1 || ids[0] != "dlv_a_01" || second[0].Token == first[0].Token {
		t.Fatalf("after the lease: %v", ids)
	}
	if finish(t, st, first[0], webhooks.StatusDelivered, nil) {
		t.Fatal("a lost claim recorded its outcome")
	}
	if !finish(t, st, second[0], webhooks.StatusDelivered, nil) {
		t.Fatal("the live claim could not record its outcome")
	}
	d, err := st.Delivery(context.Background(), "a", "dlv_a_01")
	must(t, err)
	if d.Status != webhooks.StatusDelivered || d.Attempts != 1 {
		t.Fatalf("delivery = %+v", d)
	}
}

// A failed attempt that stays pending keeps its endpoint's place and
// comes due at its next attempt, not before.
func contractLater(t *testing.T, st webhooks.Store) {
	endpoint(t, st, "a")
	must(t, st.Enqueue(context.Background(), []webhooks.Delivery{delivery("a", 1), delivery("a", 2)}))
	_, cs := claimIDs(t, st, t0)
	next := t0.Add(5 * time.Second)
	if !finish(t, st, cs[0], webhooks.StatusPending, &next) {
		t.Fatal("finish refused")
	}
	if ids, _ := claimIDs(t, st, t0.Add(4*time.Second)); len(ids) != 0 {
		t.Fatalf("claimed before its next attempt: %v", ids)
	}
	ids, _ := claimIDs(t, st, next)
	if len(ids) != 1 || ids[0] != "dlv_a_01" {
		t.Fatalf("at its next attempt: %v", ids)
	}
	d, err := st.Delivery(context.Background(), "a", "dlv_a_01")
	must(t, err)
	if d.Attempts != 1 || d.Status != webhooks.StatusPending || !d.NextAttemptAt.Equal(next) {
		t.Fatalf("delivery = %+v", d)
	}
}

func contractRequeue(t *testing.T, st webhooks.Store) {
	ctx := context.Background()
	endpoint(t, st, "a")
	must(t, st.Enqueue(ctx, []webhooks.Delivery{delivery("a", 1)}))
	_, cs := claimIDs(t, st, t0)
	finish(t, st, cs[0], webhooks.StatusFailed, nil)
	d := cs[0].Delivery
	later := t0.Add(time.Hour)
	d.Status, d.NextAttemptAt = webhooks.StatusPending, &later
	must(t, st.Requeue(ctx, d))
	ids, _ := claimIDs(t, st, later)
	if len(ids) != 1 || ids[0] != "dlv_a_01" {
		t.Fatalf("requeued: %v", ids)
	}
	d.ID = "dlv_none"
	if err := st.Requeue(ctx, d); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("requeue of nothing: %v", err)
	}
}

func contractLog(t *testing.T, st webhooks.Store) {
	ctx := context.Background()
	endpoint(t, st, "a")
	endpoint(t, st, "b")
	must(t, st.Enqueue(ctx, []webhooks.Delivery{delivery("a", 1), delivery("a", 2), delivery("a", 3), delivery("b", 1)}))
	ds, err := st.Deliveries(ctx, "a", 2)
	must(t, err)
	if len(ds) != 2 || ds[0].ID != "dlv_a_03" || ds[1].ID != "dlv_a_02" || string(ds[0].Payload) != `{"type":"session.ended"}` {
		t.Fatalf("deliveries = %+v", ds)
	}
	if _, err := st.Delivery(ctx, "b", "dlv_a_01"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("another endpoint's delivery: %v", err)
	}
	must(t, st.DeleteEndpoint(ctx, "a"))
	if _, err := st.Delivery(ctx, "a", "dlv_a_01"); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("a deleted endpoint's delivery: %v", err)
	}
	ids, _ := claimIDs(t, st, t0)
	if len(ids) != 1 || ids[0] != "dlv_b_01" {
		t.Fatalf("after deleting a: %v", ids)
	}
}

func contains(xs []string, x string) bool { return slices.Contains(xs, x) }

// contractRetryInFlight: a manual retry of an older delivery puts it at
// its endpoint's head while the head is being attempted. The retry is
// claimed, but when it finishes the head it displaced is still leased:
// no node attempts it a second time until its lease runs out.
func contractRetryInFlight(t *testing.T, st webhooks.Store) {
	ctx := context.Background()
	endpoint(t, st, "wh_01")
	must(t, st.Enqueue(ctx, []webhooks.Delivery{delivery("wh_01", 1)}))
	_, cs := claimIDs(t, st, t0)
	if !finish(t, st, cs[0], webhooks.StatusDelivered, nil) {
		t.Fatal("setup: first delivery not finished")
	}
	must(t, st.Enqueue(ctx, []webhooks.Delivery{delivery("wh_01", 2)}))
	if ids, _ := claimIDs(t, st, t0); !slices.Equal(ids, []string{"dlv_wh_01_02"}) {
		t.Fatalf("claimed %v, want the head dlv_wh_01_02", ids)
	}
	old, err := st.Delivery(ctx, "wh_01", "dlv_wh_01_01")
	must(t, err)
	now := t0.Add(time.Second)
	old.Status, old.NextAttemptAt = webhooks.StatusPending, &now
	must(t, st.Requeue(ctx, *old))
	ids, cs := claimIDs(t, st, now)
	if !slices.Equal(ids, []string{"dlv_wh_01_01"}) {
		t.Fatalf("after the retry claimed %v, want the retried dlv_wh_01_01", ids)
	}
	finish(t, st, cs[0], webhooks.StatusDelivered, nil)
	if ids, _ := claimIDs(t, st, now.Add(time.Second)); len(ids) != 0 {
		t.Fatalf("claimed %v while the head's lease holds: it would be attempted twice", ids)
	}
	if ids, _ := claimIDs(t, st, t0.Add(time.Minute)); !slices.Equal(ids, []string{"dlv_wh_01_02"}) {
		t.Fatalf("after its lease claimed %v, want dlv_wh_01_02 again", ids)
	}
}
