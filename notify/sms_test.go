package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// webhook answers with the given statuses in turn (the last one after
// that) and records the bodies it accepted.
func webhook(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32, chan map[string]string) {
	var calls atomic.Int32
	got := make(chan map[string]string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		status := statuses[min(n, len(statuses))-1]
		if status == 200 {
			var body map[string]string
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("bad webhook request: %v", err)
			}
			got <- body
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls, got
}

func smsTo() Message {
	return Message{Channel: "sms", To: "+14155550123", Body: "Alex invited you: http://cohub.test/c/abc"}
}

func fastHook(url string) *SMSWebhook {
	w := NewSMSWebhook(url, nil)
	w.Backoff = time.Millisecond
	return w
}

func TestSMSRetriesServerErrors(t *testing.T) {
	srv, calls, got := webhook(t, 503, 500, 429, 200)
	if err := fastHook(srv.URL).Send(context.Background(), smsTo()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 4 {
		t.Fatalf("%d attempts, want 4", calls.Load())
	}
	body := <-got
	if body["to"] != "+14155550123" || !strings.Contains(body["body"], "/c/abc") {
		t.Fatalf("delivered %v", body)
	}
}

func TestSMSGivesUp(t *testing.T) {
	srv, calls, _ := webhook(t, 503)
	err := fastHook(srv.URL).Send(context.Background(), smsTo())
	if err == nil || calls.Load() != 4 {
		t.Fatalf("err %v after %d attempts", err, calls.Load())
	}
	if strings.Contains(err.Error(), "/c/abc") || strings.Contains(err.Error(), "+14155550123") {
		t.Fatalf("error leaks the link or the number: %v", err)
	}
}

func TestSMSDoesNotRetryClientErrors(t *testing.T) {
	srv, calls, _ := webhook(t, 400, 200)
	if err := fastHook(srv.URL).Send(context.Background(), smsTo()); err == nil {
		t.Fatal("a 400 was taken as delivered")
	}
	if calls.Load() != 1 {
		t.Fatalf("a 400 was retried: %d attempts", calls.Load())
	}
}

func TestSMSStopsWhenContextEnds(t *testing.T) {
	var calls atomic.Int32
	first := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			close(first)
		}
		w.WriteHeader(503)
	}))
	defer srv.Close()
	w := NewSMSWebhook(srv.URL, nil)
	w.Backoff = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Send(ctx, smsTo()) }()
	<-first
	cancel()
	if err := <-done; err == nil || calls.Load() != 1 {
		t.Fatalf("err %v after %d attempts", err, calls.Load())
	}
}
