package webhooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cohub/cohub/internal/claimloop"
)

// maxInFlight bounds one node's attempts at once.
const maxInFlight = 16

// Run delivers due deliveries until ctx ends: every node runs it, and a
// claim gives each attempt to one of them. An attempt cut short by ctx
// records nothing: its lease runs out and another node makes it.
func (s *Service) Run(ctx context.Context) {
	claimloop.Loop[Claim]{Slots: maxInFlight, Poll: s.opts.Poll, Kick: s.wake,
		Claim: func(ctx context.Context, n int) ([]Claim, error) {
			return s.store.Claim(ctx, s.now(), s.opts.Lease, n)
		},
		Work:   s.attempt,
		Failed: func(err error) { s.log.Warn().Err(err).Msg("webhook claim failed") },
	}.Run(ctx)
}

// attempt sends one delivery and records how it went.
func (s *Service) attempt(ctx context.Context, c Claim) {
	d := c.Delivery
	code, why := s.send(ctx, d)
	if ctx.Err() != nil {
		return
	}
	now := s.now()
	d.Attempts++
	d.LastStatusCode, d.LastError, d.LastAttemptAt = code, why, &now
	switch {
	case why == "":
		d.Status, d.NextAttemptAt = StatusDelivered, nil
	case !now.Before(d.GiveUpAt):
		d.Status, d.NextAttemptAt = StatusFailed, nil
	default:
		next := now.Add(s.wait(d.Attempts))
		if next.After(d.GiveUpAt) {
			next = d.GiveUpAt
		}
		d.NextAttemptAt = &next
	}
	ok, err := s.store.Finish(context.WithoutCancel(ctx), c.Token, d)
	switch {
	case err != nil:
		s.log.Warn().Err(err).Str("delivery", d.ID).Msg("webhook outcome not recorded")
	case !ok:
		s.log.Info().Str("delivery", d.ID).Msg("webhook claim lost: another node took it")
	case d.Status != StatusPending:
		s.poke() // the endpoint's next delivery is due
	}
}

// wait is how long after the n-th failed attempt the next one comes.
func (s *Service) wait(n int) time.Duration {
	return s.opts.Schedule[min(n, len(s.opts.Schedule))-1]
}

// send makes one attempt: the status code, and why it failed ("" when
// the receiver took it).
func (s *Service) send(ctx context.Context, d Delivery) (int, string) {
	ep, err := s.store.Endpoint(ctx, d.EndpointID)
	if err != nil {
		return 0, "endpoint unavailable"
	}
	if !ep.Enabled {
		return 0, "the endpoint is disabled"
	}
	at := s.now()
	sig, err := Sign(ep.Secret, d.WebhookID, at, d.Payload)
	if err != nil {
		return 0, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "bad endpoint URL"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Cohub-Webhooks/1")
	req.Header.Set("webhook-id", d.WebhookID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return 0, attemptError(ctx, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Sprintf("the receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}
