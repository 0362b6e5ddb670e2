package webhooks_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/internal/testclock"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/memqueue"
	"github.com/cohub/cohub/webhooks/redisqueue"
	"github.com/cohub/cohub/webhooks/webhooktest"
)

const wait = 10 * time.Second

// engines runs fn on each engine.
func engines(t *testing.T, fn func(t *testing.T, st webhooks.Store)) {
	t.Run("memory", func(t *testing.T) { fn(t, memqueue.New()) })
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := redistest.Client(t)
		fn(t, redisqueue.New(rdb, prefix))
	})
}

// start runs a service's dispatcher for the test.
func start(t *testing.T, st webhooks.Store, opts webhooks.Options) *webhooks.Service {
	if opts.Poll == 0 {
		opts.Poll = 10 * time.Millisecond
	}
	svc := webhooks.NewService(st, opts, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return svc
}

func emit(t *testing.T, svc *webhooks.Service, typ, session string, at time.Time) {
	t.Helper()
	if err := svc.Emit(context.Background(), webhooks.Event{Type: typ, Timestamp: at,
		Data: map[string]any{"session_id": session}}); err != nil {
		t.Fatal(err)
	}
}

// eventually waits for cond, checking every few milliseconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func only(t *testing.T, svc *webhooks.Service, ep string) webhooks.Delivery {
	t.Helper()
	ds, err := svc.Deliveries(context.Background(), ep, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries %+v, %v", ds, err)
	}
	return ds[0]
}

// TestDeliveredSigned: an event reaches the endpoint signed per the
// spec, and the log says delivered; a manual retry sends it again with
// the same webhook-id.
func TestDeliveredSigned(t *testing.T) {
	engines(t, func(t *testing.T, st webhooks.Store) {
		rcv := webhooktest.NewReceiver(t)
		svc := start(t, st, webhooks.Options{AllowPrivate: true})
		ep := webhooktest.Register(t, svc, rcv.URL)
		emit(t, svc, webhooks.SessionEnded, "s_1", time.Now())
		got := rcv.Next(t, wait)
		if err := webhooktest.Verify(ep.Secret, got, time.Now(), 5*time.Minute); err != nil {
			t.Fatal(err)
		}
		typ, data, _ := got.Event(t)
		if typ != webhooks.SessionEnded || data["session_id"] != "s_1" || !strings.HasPrefix(got.ID, "msg_") {
			t.Fatalf("got %s %s", got.ID, got.Body)
		}
		eventually(t, "delivered", func() bool { return only(t, svc, ep.ID).Status == webhooks.StatusDelivered })
		d := only(t, svc, ep.ID)
		if d.Attempts != 1 || d.LastStatusCode != 204 || d.WebhookID != got.ID || d.NextAttemptAt != nil {
			t.Fatalf("delivery %+v", d)
		}
		if _, err := svc.Retry(context.Background(), ep.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		again := rcv.Next(t, wait)
		if again.ID != got.ID || string(again.Body) != string(got.Body) {
			t.Fatalf("retry sent %s %s", again.ID, again.Body)
		}
		eventually(t, "delivered again", func() bool { d := only(t, svc, ep.ID); return d.Attempts == 2 && d.Status == webhooks.StatusDelivered })
	})
}

// TestOutage: while a receiver is down, its events wait; once it is
// back it gets every one, in the order of their timestamps, each with
// its first webhook-id.
func TestOutage(t *testing.T) {
	engines(t, func(t *testing.T, st webhooks.Store) {
		rcv := webhooktest.NewReceiver(t)
		const down = 4 // requests refused before it is back
		rcv.Answer(func(n int) int {
			if n <= down {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		svc := start(t, st, webhooks.Options{AllowPrivate: true, Schedule: []time.Duration{20 * time.Millisecond}})
		ep := webhooktest.Register(t, svc, rcv.URL)
		t0 := time.Now()
		emit(t, svc, webhooks.SessionCreated, "s_1", t0)
		first := rcv.Next(t, wait)
		// Two more events while it is down, the later one queued first.
		emit(t, svc, webhooks.TaskCompleted, "s_1", t0.Add(2*time.Second))
		emit(t, svc, webhooks.TaskAssigned, "s_1", t0.Add(time.Second))
		var accepted []webhooktest.Request
		for len(accepted) < 3 {
			got := rcv.Next(t, wait)
			if got.Answer != http.StatusOK {
				if got.ID != first.ID {
					t.Fatalf("a newer event was sent while the oldest was refused: %s", got.Body)
				}
				continue
			}
			if err := webhooktest.Verify(ep.Secret, got, time.Now(), 5*time.Minute); err != nil {
				t.Fatal(err)
			}
			accepted = append(accepted, got)
		}
		ids := map[string]string{}
		ds, err := svc.Deliveries(context.Background(), ep.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			ids[d.Type] = d.WebhookID
		}
		for i, want := range []string{webhooks.SessionCreated, webhooks.TaskAssigned, webhooks.TaskCompleted} {
			typ, _, _ := accepted[i].Event(t)
			if typ != want || accepted[i].ID != ids[want] {
				t.Fatalf("delivery %d: %s %s, want %s %s", i, typ, accepted[i].ID, want, ids[want])
			}
		}
		if accepted[0].ID != first.ID {
			t.Fatalf("the first event came back as %s, first sent as %s", accepted[0].ID, first.ID)
		}
		eventually(t, "all delivered", func() bool {
			ds, _ := svc.Deliveries(context.Background(), ep.ID, 10)
			return len(ds) == 3 && ds[0].Status == webhooks.StatusDelivered && ds[1].Status == webhooks.StatusDelivered &&
				ds[2].Status == webhooks.StatusDelivered && ds[2].Attempts == down+1
		})
	})
}

// TestGivesUpAfterADay: a delivery refused every time is retried on the
// schedule (driven by the service's clock) and marked failed a day after
// its event, with the receiver's last answer.
func TestGivesUpAfterADay(t *testing.T) {
	engines(t, func(t *testing.T, st webhooks.Store) {
		rcv := webhooktest.NewReceiver(t)
		rcv.Answer(func(int) int { return http.StatusInternalServerError })
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		clk := testclock.New(t0)
		svc := start(t, st, webhooks.Options{AllowPrivate: true, Now: clk.Now})
		ep := webhooktest.Register(t, svc, rcv.URL)
		emit(t, svc, webhooks.SessionEnded, "s_1", t0)
		var at []time.Duration
		for attempt := 1; ; attempt++ {
			rcv.Next(t, wait)
			eventually(t, "the attempt recorded", func() bool { return only(t, svc, ep.ID).Attempts == attempt })
			d := only(t, svc, ep.ID)
			at = append(at, d.LastAttemptAt.Sub(t0))
			if d.Status == webhooks.StatusFailed {
				if d.LastStatusCode != 500 || !strings.Contains(d.LastError, "500") || d.NextAttemptAt != nil {
					t.Fatalf("failed delivery %+v", d)
				}
				break
			}
			if d.Status != webhooks.StatusPending || attempt > 20 {
				t.Fatalf("attempt %d: %+v", attempt, d)
			}
			clk.Set(*d.NextAttemptAt)
		}
		want := []time.Duration{0, 5 * time.Second, 5*time.Minute + 5*time.Second, 35*time.Minute + 5*time.Second,
			2*time.Hour + 35*time.Minute + 5*time.Second, 7*time.Hour + 35*time.Minute + 5*time.Second,
			17*time.Hour + 35*time.Minute + 5*time.Second, 24 * time.Hour}
		if len(at) != len(want) {
			t.Fatalf("attempts at %v, want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Fatalf("attempts at %v, want %v", at, want)
			}
		}
	})
}

// TestRefusedAtDial: a name that resolves to a loopback address is
// refused when dialled, without --webhook-allow-private: the check is on
// the address connected to. The receiver hears nothing.
func TestRefusedAtDial(t *testing.T) {
	st := memqueue.New()
	rcv := webhooktest.NewReceiver(t)
	svc := start(t, st, webhooks.Options{})
	url := strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1)
	if why := webhooks.CheckURL(url, false); why == "" {
		t.Fatalf("%s allowed without --webhook-allow-private", url)
	}
	// Stored as if it had been https: the dial check alone must refuse it.
	if err := st.SaveEndpoint(context.Background(), &webhooks.Endpoint{ID: "wh_1", URL: url, Events: []string{}, Enabled: true,
		Secret: webhooks.NewSecret()}); err != nil {
		t.Fatal(err)
	}
	emit(t, svc, webhooks.SessionEnded, "s_1", time.Now())
	eventually(t, "the attempt recorded", func() bool { return only(t, svc, "wh_1").Attempts == 1 })
	if d := only(t, svc, "wh_1"); !strings.Contains(d.LastError, "loopback") || d.LastStatusCode != 0 {
		t.Fatalf("delivery %+v", d)
	}
	select {
	case got := <-rcv.Got:
		t.Fatalf("the receiver got %s", got.Body)
	default:
	}
}

// TestDisabled: a disabled endpoint gets nothing new, and what was
// pending for it fails its attempts without a request; enabled again, it
// gets the pending delivery.
func TestDisabled(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	rcv.Answer(func(int) int { return http.StatusServiceUnavailable })
	svc := start(t, memqueue.New(), webhooks.Options{AllowPrivate: true, Schedule: []time.Duration{50 * time.Millisecond}})
	ep := webhooktest.Register(t, svc, rcv.URL)
	ctx := context.Background()
	off, on := false, true
	emit(t, svc, webhooks.SessionEnded, "s_1", time.Now())
	refused := rcv.Next(t, wait)
	if _, err := svc.Update(ctx, ep.ID, webhooks.EndpointInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an attempt refused for the endpoint", func() bool { return only(t, svc, ep.ID).LastError == "the endpoint is disabled" })
	emit(t, svc, webhooks.SessionRenewed, "s_1", time.Now()) // not queued: only(…) checks
	rcv.Answer(func(int) int { return http.StatusOK })
	if _, err := svc.Update(ctx, ep.ID, webhooks.EndpointInput{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivered once enabled", func() bool { return only(t, svc, ep.ID).Status == webhooks.StatusDelivered })
	for got := rcv.Next(t, wait); got.Answer != http.StatusOK; got = rcv.Next(t, wait) {
	}
	if d := only(t, svc, ep.ID); d.WebhookID != refused.ID {
		t.Fatalf("delivered %s, first sent as %s", d.WebhookID, refused.ID)
	}
}

func TestCheckAddr(t *testing.T) {
	for addr, want := range map[string][2]bool{ // allowed without, with --webhook-allow-private
		"93.184.215.14": {true, true}, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": {true, true},
		"127.0.0.1": {false, true}, "::1": {false, true}, "10.1.2.3": {false, true}, "172.16.0.1": {false, true},
		"192.168.0.1": {false, true}, "fd12::1": {false, true}, "100.64.0.1": {false, true},
		"169.254.169.254": {false, false}, "169.254.1.1": {false, false}, "fe80::1": {false, false},
		"fd00:ec2::254": {false, false}, "100.100.100.200": {false, false}, "224.0.0.1": {false, false},
		"ff02::1": {false, false}, "0.0.0.0": {false, false}, "::": {false, false}, "::ffff:169.254.169.254": {false, false},
		"::ffff:127.0.0.1": {false, true},
	} {
		ip := netip.MustParseAddr(addr)
		if got := webhooks.CheckAddr(ip, false) == nil; got != want[0] {
			t.Errorf("%s allowed=%v, want %v", addr, got, want[0])
		}
		if got := webhooks.CheckAddr(ip, true) == nil; got != want[1] {
			t.Errorf("%s with --webhook-allow-private allowed=%v, want %v", addr, got, want[1])
		}
	}
}
