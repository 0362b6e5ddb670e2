package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/rooms"
)

// Options tune delivery. Zero values are the production ones.
type Options struct {
	// Schedule is the wait after each failed attempt (the first attempt
	// is at once); past its end the last wait repeats. Zero value:
	// DefaultSchedule.
	Schedule []time.Duration
	// GiveUpAfter is how long a delivery is retried, from its event.
	// Zero value: 24 hours.
	GiveUpAfter time.Duration
	// Timeout bounds one attempt. Zero value: 10 seconds.
	Timeout time.Duration
	// Lease is how long a claimed delivery waits for its node before
	// another node takes it. Zero value: Timeout + 20 seconds.
	Lease time.Duration
	// Poll is how often a node looks for due deliveries. Zero value: 1 second.
	Poll time.Duration
	// AllowPrivate lets endpoints be http and on loopback or private
	// addresses (--webhook-allow-private).
	AllowPrivate bool
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
	// Client sends the attempts. Zero value: Client(Timeout, AllowPrivate).
	Client *http.Client
}

// DefaultSchedule is the Standard Webhooks recommendation, cut at a day
// by GiveUpAfter: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

func (o Options) withDefaults() Options {
	if len(o.Schedule) == 0 {
		o.Schedule = DefaultSchedule
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 24 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = o.Timeout + 20*time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = Client(o.Timeout, o.AllowPrivate)
	}
	return o
}

// Service registers endpoints and queues events for them.
type Service struct {
	store Store
	opts  Options
	log   zerolog.Logger
	wake  chan struct{}
}

// NewService runs webhooks on store.
func NewService(store Store, opts Options, log zerolog.Logger) *Service {
	return &Service{store: store, opts: opts.withDefaults(), log: log, wake: make(chan struct{}, 1)}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// EndpointInput is what an admin gives for an endpoint; a PUT's absent
// fields keep their value.
type EndpointInput struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

// check applies in to e, or says what is wrong with it.
func (s *Service) check(e *Endpoint, in EndpointInput) error {
	f := map[string]string{}
	if in.URL != nil {
		if why := CheckURL(*in.URL, s.opts.AllowPrivate); why != "" {
			f["url"] = why
		}
		e.URL = *in.URL
	}
	if in.Events != nil {
		e.Events = []string{}
		for i, t := range *in.Events {
			if !slices.Contains(EventTypes, t) {
				f[fmt.Sprintf("events[%d]", i)] = "unknown event type " + t
			} else if !slices.Contains(e.Events, t) {
				e.Events = append(e.Events, t)
			}
		}
	}
	if in.Description != nil {
		if len(*in.Description) > maxDescription {
			f["description"] = "must be at most 500 characters"
		}
		e.Description = *in.Description
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
	}
	if len(f) > 0 {
		return &rooms.ValidationError{Fields: f}
	}
	return nil
}

// Create registers an endpoint, enabled, with a new secret (the one
// time the secret is returned).
func (s *Service) Create(ctx context.Context, in EndpointInput) (*Endpoint, error) {
	if in.URL == nil {
		in.URL = new(string)
	}
	e := &Endpoint{ID: "wh_" + ulid.Make().String(), Events: []string{}, Enabled: true, CreatedAt: s.now(), Secret: NewSecret()}
	if err := s.check(e, in); err != nil {
		return nil, err
	}
	return e, s.store.SaveEndpoint(ctx, e)
}

// List is every endpoint, without secrets.
func (s *Service) List(ctx context.Context) ([]Endpoint, error) {
	es, err := s.store.Endpoints(ctx)
	for i := range es {
		es[i] = es[i].Public()
	}
	return es, err
}

// Update changes an endpoint's URL, events, description or enabling.
func (s *Service) Update(ctx context.Context, id string, in EndpointInput) (*Endpoint, error) {
	e, err := s.store.Endpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.check(e, in); err != nil {
		return nil, err
	}
	if err := s.store.SaveEndpoint(ctx, e); err != nil {
		return nil, err
	}
	pub := e.Public()
	return &pub, nil
}

// Delete removes an endpoint and its deliveries.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.store.DeleteEndpoint(ctx, id)
}

// RotateSecret gives an endpoint a new secret and returns it, once.
// Deliveries still pending are signed with the new one.
func (s *Service) RotateSecret(ctx context.Context, id string) (*Endpoint, error) {
	e, err := s.store.Endpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	e.Secret = NewSecret()
	return e, s.store.SaveEndpoint(ctx, e)
}

// Deliveries are an endpoint's latest deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, id string, limit int) ([]Delivery, error) {
	if _, err := s.store.Endpoint(ctx, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > LogLength {
		limit = 100
	}
	return s.store.Deliveries(ctx, id, limit)
}

// Retry sends a delivery once more, now, whatever its status. A
// delivered or failed one gets that one attempt (failing, it is failed
// again); a pending one keeps the rest of its day.
func (s *Service) Retry(ctx context.Context, endpointID, id string) (*Delivery, error) {
	d, err := s.store.Delivery(ctx, endpointID, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if d.Status != StatusPending {
		d.GiveUpAt = now
	}
	d.Status, d.NextAttemptAt = StatusPending, &now
	if err := s.store.Requeue(ctx, *d); err != nil {
		return nil, err
	}
	s.poke()
	return d, nil
}

// Emit queues events for every enabled endpoint that wants them. Events
// go in the order given.
func (s *Service) Emit(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	eps, err := s.store.Endpoints(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var ds []Delivery
	for _, ev := range events {
		for _, ep := range eps {
			if !ep.Wants(ev.Type) {
				continue
			}
			d, err := newDelivery(ep.ID, ev, now, s.opts.GiveUpAfter)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return nil
	}
	if err := s.store.Enqueue(ctx, ds); err != nil {
		return err
	}
	s.poke()
	return nil
}

func newDelivery(endpointID string, ev Event, now time.Time, giveUp time.Duration) (Delivery, error) {
	ev.Timestamp = ev.Timestamp.UTC()
	body, err := json.Marshal(ev)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{ID: "dlv_" + ulid.Make().String(), EndpointID: endpointID, WebhookID: "msg_" + ulid.Make().String(),
		Type: ev.Type, Timestamp: ev.Timestamp, Status: StatusPending, NextAttemptAt: &now,
		GiveUpAt: ev.Timestamp.Add(giveUp), CreatedAt: now, Payload: body}, nil
}

// poke wakes this node's dispatcher: a new delivery goes out at once,
// not at the next poll.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
