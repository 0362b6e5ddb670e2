// Package app builds a Cohub server on a backend set (hub.Backend): the
// domain (rooms.Service), the live hub (hub.Node) and the HTTP edge
// (api.Server), wired to each other once. The server's main, the tests
// that run whole servers and the load tool's tests all build theirs here.
package app

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

// Config is what a server needs beyond its backend. New fills in the
// parts it wires (the hub's service, bus, presence, metrics and error
// writer; the API's live endpoint and readiness).
type Config struct {
	// Rooms is the domain's: Secret and PublicURL at least.
	Rooms rooms.Config
	// Hub is the node's: its id, timings and allowed origins.
	Hub hub.Config
	// API is the HTTP edge's: origins and trusted proxies. Its PublicURL
	// defaults to the domain's.
	API api.Options
	// Sender delivers invitations. Zero value: the backend's outbox takes
	// email and SMS.
	Sender notify.Sender
	Log    zerolog.Logger
	// WrapBus, when set, wraps the node's bus as it is built: fault tests
	// put a bus that loses messages there. Zero value: the bus as is.
	WrapBus func(bus.Bus) bus.Bus
	// Webhooks tune webhook delivery: --webhook-allow-private, and tests'
	// short retries and clock. Zero value: the production schedule.
	Webhooks webhooks.Options
	// Followups tune the follow-up worker: tests' short poll. Its clock
	// defaults to the domain's. Zero value: the production timings.
	Followups followup.Options
}

// App is one wired server.
type App struct {
	Backend *Backend
	Service *rooms.Service
	Node    *hub.Node
	API     *api.Server
	Metrics *hub.Metrics
	// Webhooks registers endpoints and delivers events to them.
	Webhooks *webhooks.Service
	// Followups wakes this node's share of due follow-ups.
	Followups *followup.Worker
	stop      context.CancelFunc
}

// New wires a server on b: Service → Node → API.
func New(b *Backend, cfg Config) *App {
	sender := cfg.Sender
	if sender == nil {
		sender = notify.Mux{Email: b.Outbox, SMS: b.Outbox}
	}
	// The domain tells the node of its commits and reads presence from
	// it, and the node serves the domain: the domain is built first, with
	// a listener that reaches the node once the node exists.
	live := &liveNode{}
	hooks := webhooks.NewService(b.Webhooks, cfg.Webhooks, cfg.Log)
	assets, _ := b.Store.(rooms.AssetStore)
	src := &hookSource{hooks: hooks, assets: assets, log: cfg.Log}
	rc := cfg.Rooms
	fo := cfg.Followups
	if fo.Now == nil {
		fo.Now = cfg.Rooms.Now
	}
	worker := followup.NewWorker(b.Followups, fo, cfg.Log)
	rc.Listener, rc.Presence, rc.Announce, rc.Followups = listener{liveNode: live, src: src}, live, src.announced, worker
	svc := rooms.NewService(b.Store, sender, rc, cfg.Log)
	hc := cfg.Hub
	hc.Sessions, hc.Gates, hc.Accounts, hc.Tickets, hc.Log = svc.Sessions, svc.Gates, svc.Accounts, svc.Tickets, cfg.Log
	if hc.Metrics == nil {
		hc.Metrics = hub.NewMetrics()
	}
	node := b.Node(hc, cfg.WrapBus)
	live.Node = node
	opts := cfg.API
	if opts.PublicURL == "" {
		opts.PublicURL = cfg.Rooms.PublicURL
	}
	opts.Live, opts.Ready, opts.Webhooks = node, node.Ready, hooks
	srv := api.New(svc, b.Outbox, opts, cfg.Log)
	if cfg.Rooms.Sealer != nil {
		srv.Registry().MustRegister(cfg.Rooms.Sealer.Collector())
	}
	hc.Metrics.Register(srv.Registry())
	if m, ok := b.Store.(interface{ Collector() prometheus.Collector }); ok {
		srv.Registry().MustRegister(m.Collector())
	}
	return &App{Backend: b, Service: svc, Node: node, API: srv, Metrics: hc.Metrics, Webhooks: hooks, Followups: worker}
}

// Start runs the node's loops, its webhook deliveries and its follow-up
// wake-ups until ctx ends or Stop.
func (a *App) Start(ctx context.Context) {
	ctx, a.stop = context.WithCancel(ctx)
	a.Node.Start(ctx)
	go a.Webhooks.Run(ctx)
	go a.Followups.Run(ctx, a.Service.Followups)
}

// Stop ends the node's webhook deliveries and follow-up wake-ups; one
// cut short is made again by a node when its lease ends. The node itself stops with Shutdown.
func (a *App) Stop() {
	if a.stop != nil {
		a.stop()
	}
}

// Handler is the whole public HTTP edge, /ws included.
func (a *App) Handler() http.Handler { return a.API.Handler() }

// liveNode is the domain's listener and presence: the node, built after
// the domain it serves. Nothing reaches it before New returns.
type liveNode struct{ *hub.Node }
