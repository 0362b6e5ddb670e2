package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// SMSWebhook sends SMS invitations by POSTing {"to","body"} as JSON to
// an HTTP endpoint (the deployment's SMS provider or a bridge to it).
type SMSWebhook struct {
	url    string
	client *http.Client
	// Attempts is how many times a message is tried. Zero value means 4.
	Attempts int
	// Backoff is the first retry's delay, doubled for each next one.
	// Zero value means 200ms.
	Backoff time.Duration
}

// NewSMSWebhook posts to url with client (nil: a 10-second timeout).
func NewSMSWebhook(url string, client *http.Client) *SMSWebhook {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &SMSWebhook{url: url, client: client}
}

// errPermanent marks an answer that retrying will not change.
var errPermanent = errors.New("refused")

// Send posts the message, retrying server errors, 429 and network
// failures with exponential backoff until ctx ends.
func (w *SMSWebhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]string{"to": m.To, "body": m.Body})
	if err != nil {
		return err
	}
	attempts, delay := w.Attempts, w.Backoff
	if attempts <= 0 {
		attempts = 4
	}
	if delay <= 0 {
		delay = 200 * time.Millisecond
	}
	var last error
	for i := 1; i <= attempts; i++ {
		last = w.post(ctx, body)
		if last == nil || errors.Is(last, errPermanent) {
			break
		}
		if i == attempts {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sms webhook: gave up after %d attempts: %w", i, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
	if last != nil {
		return fmt.Errorf("sms webhook to %s: %w", Mask(m.To), last)
	}
	return nil
}

func (w *SMSWebhook) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := w.client.Do(req)
	if err != nil {
		return err // network errors are worth another try
	}
	res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return fmt.Errorf("%w: status %d", errPermanent, res.StatusCode)
}
