// Package webhooktest is a webhook receiver for tests: it records every
// request, answers as the test says, and verifies signatures with code
// written from the Standard Webhooks spec, apart from the signer it
// checks.
package webhooktest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/webhooks"
)

// Request is one attempt the receiver got.
type Request struct {
	ID        string // webhook-id
	Timestamp string // webhook-timestamp
	Signature string // webhook-signature
	Body      []byte
	Header    http.Header
	// Answer is the status the receiver gave (0: it held the request
	// until the sender gave up).
	Answer int
}

// Event is a request's body.
func (r Request) Event(t testing.TB) (typ string, data map[string]any, at time.Time) {
	t.Helper()
	var ev struct {
		Type      string         `json:"type"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		t.Fatalf("webhook body %s: %v", r.Body, err)
	}
	return ev.Type, ev.Data, ev.Timestamp
}

// Receiver is an HTTP server on loopback that takes webhooks.
type Receiver struct {
	URL string
	// Got has every request, as it arrives.
	Got chan Request
	mu  sync.Mutex
	// answer says the status of the n-th request (from 1); 0 holds the
	// request open until the sender leaves.
	answer func(n int) int
	n      int
}

// NewReceiver starts a receiver that answers 204 to everything.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{Got: make(chan Request, 1000), answer: func(int) int { return http.StatusNoContent }}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hooks"
	return r
}

// Answer sets how the receiver answers the n-th request from now on.
func (r *Receiver) Answer(f func(n int) int) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.n++
	status := r.answer(r.n)
	r.mu.Unlock()
	got := Request{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), Body: body, Header: req.Header, Answer: status}
	r.Got <- got
	if status == 0 {
		<-req.Context().Done()
		return
	}
	w.WriteHeader(status)
}

// Next is the next request, or fails the test after limit.
func (r *Receiver) Next(t testing.TB, limit time.Duration) Request {
	t.Helper()
	select {
	case got := <-r.Got:
		return got
	case <-time.After(limit):
		t.Fatalf("no webhook in %s", limit)
		return Request{}
	}
}

// Register registers an endpoint for url with every event type.
func Register(t testing.TB, svc *webhooks.Service, url string) *webhooks.Endpoint {
	t.Helper()
	ep, err := svc.Create(context.Background(), webhooks.EndpointInput{URL: &url})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// Verify checks a request as the Standard Webhooks spec says a receiver
// does: the secret's bytes are the base64 after "whsec_"; the content
// signed is "{webhook-id}.{webhook-timestamp}.{body}" with HMAC-SHA256;
// webhook-signature holds space-separated "v1,{base64}" entries, one of
// which must match; the timestamp must be within tolerance of now.
func Verify(secret string, r Request, now time.Time, tolerance time.Duration) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q: %w", r.Timestamp, err)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook-timestamp %s is %s away", r.Timestamp, d)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.ID + "." + r.Timestamp + "." + string(r.Body)))
	want := mac.Sum(nil)
	for _, sig := range strings.Split(r.Signature, " ") {
		version, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}
