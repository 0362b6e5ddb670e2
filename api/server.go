// Package api is Cohub's HTTP edge: routes, authentication, CSRF and
// origin checks, strict JSON bodies and the one error shape. It calls
// rooms (and, for live rooms, hub); nothing imports api.
package api

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/klauspost/compress/gzhttp"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/sso"
	"github.com/cohub/cohub/static"
	"github.com/cohub/cohub/webhooks"
)

// Options configure the HTTP edge.
type Options struct {
	// PublicURL is the origin customers and agents use; its origin is
	// always allowed. Zero value: only the request's own host is.
	PublicURL string
	// AllowedOrigins are further origins allowed to call with cookies.
	AllowedOrigins []string
	// TrustedProxies are the load balancers whose X-Forwarded-For is
	// believed for per-IP login limits. Zero value: none; the peer counts.
	TrustedProxies []netip.Prefix
	// Ready, when set, adds a readiness check to the store's ping.
	Ready func(ctx context.Context) error
	// Live, when set, serves the WebSocket endpoint /ws (the hub).
	Live http.Handler
	// UploadIdle ends an upload whose body sends nothing for this long.
	// Zero value means 15 seconds.
	UploadIdle time.Duration
	// Webhooks serves /api/webhooks. Zero value: those routes answer 404.
	Webhooks *webhooks.Service
	// SSO, when set, signs agents in through this OpenID provider. Zero
	// value: passwords only.
	SSO *sso.Provider
}

// Server routes HTTP requests to the domain.
type Server struct {
	// The domain's concerns, each taken by the handlers of its routes,
	// and the store for the admin screens' plain reads and readiness.
	sessions *rooms.SessionService
	gates    *rooms.GateService
	accounts *rooms.AccountService
	files    *rooms.FileService
	evidence *rooms.EvidenceService
	tickets  *rooms.TicketService
	keys     *rooms.KeyService
	sso      *rooms.SSOService
	follow   *rooms.FollowupService
	store    rooms.Store
	outbox   notify.Outbox
	opts     Options
	origins  []string
	router   *mux.Router
	log      zerolog.Logger
	metrics  *metrics
	uploads  slots
}

// New builds the routes. outbox may be nil when invitations never go
// through it (GET /api/outbox then lists nothing).
func New(svc *rooms.Service, outbox notify.Outbox, opts Options, log zerolog.Logger) *Server {
	if opts.UploadIdle <= 0 {
		opts.UploadIdle = 15 * time.Second
	}
	s := &Server{sessions: svc.Sessions, gates: svc.Gates, accounts: svc.Accounts, files: svc.Files, evidence: svc.Evidence, tickets: svc.Tickets, keys: svc.Keys, sso: svc.SSO, follow: svc.Followups, store: svc.Store(), outbox: outbox, opts: opts, router: mux.NewRouter(), log: log, metrics: newMetrics()}
	s.origins = append(s.origins, opts.AllowedOrigins...)
	if u, err := url.Parse(opts.PublicURL); err == nil && u.Host != "" {
		s.origins = append(s.origins, u.Scheme+"://"+u.Host)
	}
	s.routes()
	return s
}

// Router lets the live hub add its routes (/ws).
func (s *Server) Router() *mux.Router { return s.router }

// Origins are the allowed origins besides the request's own host.
func (s *Server) Origins() []string { return s.origins }

// Handler is the whole HTTP edge, middleware included.
func (s *Server) Handler() http.Handler {
	return logRequests(s.log, securityHeaders(s.opts.PublicURL, languages{gates: s.gates}.customerWords(s.metrics.wrap(s.router))))
}

func (s *Server) routes() {
	r := s.router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, rooms.ErrNotFound)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeCode(w, "method_not_allowed", r.Method+" is not allowed here")
	})
	r.HandleFunc("/healthz", s.healthz).Methods("GET")
	r.HandleFunc("/readyz", s.readyz).Methods("GET")
	if s.opts.Live != nil {
		r.Handle("/ws", s.opts.Live).Methods("GET")
	}

	a := r.PathPrefix("/api").Subrouter()
	// /api answers every path under it itself, in JSON: otherwise the
	// root's GET file server (text/plain) or its 405 takes what no /api
	// route matched.
	a.NotFoundHandler = apiFallback(a, r.NotFoundHandler, r.MethodNotAllowedHandler)
	a.MethodNotAllowedHandler = a.NotFoundHandler
	a.HandleFunc("/login", s.login).Methods("POST")
	a.HandleFunc("/logout", s.requireAgent(s.logout)).Methods("POST")
	a.HandleFunc("/me", s.requireAgent(s.me)).Methods("GET")
	a.HandleFunc("/openapi.json", serveOpenAPI).Methods("GET")
	so := signOn{s: s, sso: s.sso, provider: s.opts.SSO}
	a.HandleFunc("/sso", so.info).Methods("GET")
	a.HandleFunc("/sso/start", so.start).Methods("GET")
	a.HandleFunc("/sso/callback", so.callback).Methods("GET")
	a.HandleFunc("/ws/ticket", wsTickets{s: s, tickets: s.tickets}.issue).Methods("POST")

	a.HandleFunc("/settings", s.requireAdmin(s.getSettings)).Methods("GET")
	a.HandleFunc("/settings", s.requireAdmin(s.putSettings)).Methods("PUT")
	a.HandleFunc("/teams", s.requireAdmin(s.listTeams)).Methods("GET")
	a.HandleFunc("/teams", s.requireAdmin(s.createTeam)).Methods("POST")
	a.HandleFunc("/teams/{id}", s.requireAdmin(s.getTeam)).Methods("GET")
	a.HandleFunc("/teams/{id}", s.requireAdmin(s.putTeam)).Methods("PUT")
	a.HandleFunc("/teams/{id}/templates/{index}/document", s.requireAdmin(s.putTemplateDocument)).Methods("POST")
	a.HandleFunc("/teams/{id}/templates/{index}/document", s.requireAdmin(s.deleteTemplateDocument)).Methods("DELETE")
	a.HandleFunc("/agents", s.requireAdmin(s.listAgents)).Methods("GET")
	a.HandleFunc("/agents", s.requireAdmin(s.createAgent)).Methods("POST")
	a.HandleFunc("/agents/{id}", s.requireAdmin(s.putAgent)).Methods("PUT")
	a.HandleFunc("/outbox", s.requireAdmin(s.listOutbox)).Methods("GET")
	keys := apiKeys{keys: s.keys}
	a.HandleFunc("/api-keys", s.requireAdmin(keys.list)).Methods("GET")
	a.HandleFunc("/api-keys", s.requireAdmin(keys.issue)).Methods("POST")
	a.HandleFunc("/api-keys/{id}", s.requireAdmin(keys.revoke)).Methods("DELETE")
	wh := hooks{svc: s.opts.Webhooks}
	a.HandleFunc("/webhooks", s.requireAdmin(wh.list)).Methods("GET")
	a.HandleFunc("/webhooks", s.requireAdmin(wh.create)).Methods("POST")
	a.HandleFunc("/webhooks/{id}", s.requireAdmin(wh.update)).Methods("PUT")
	a.HandleFunc("/webhooks/{id}", s.requireAdmin(wh.remove)).Methods("DELETE")
	a.HandleFunc("/webhooks/{id}/rotate-secret", s.requireAdmin(wh.rotate)).Methods("POST")
	a.HandleFunc("/webhooks/{id}/deliveries", s.requireAdmin(wh.deliveries)).Methods("GET")
	a.HandleFunc("/webhooks/{id}/deliveries/{delivery}/retry", s.requireAdmin(wh.retry)).Methods("POST")
	rec := records{sessions: s.sessions, evidence: s.evidence}
	a.HandleFunc("/signing-identity", s.requireAdmin(rec.signingIdentity)).Methods("GET")

	a.HandleFunc("/sessions", s.requireAgent(s.createSession)).Methods("POST")
	a.HandleFunc("/sessions", s.requireAgent(s.history)).Methods("GET")
	a.HandleFunc("/sessions/{id}", s.requireAgent(s.getSession)).Methods("GET")
	a.HandleFunc("/sessions/{id}/seen", s.requireAgent(s.action(s.sessions.Seen))).Methods("POST")
	a.HandleFunc("/sessions/{id}/invite", s.requireAgent(s.action(s.sessions.Invite))).Methods("POST")
	a.HandleFunc("/sessions/{id}/end", s.requireAgent(s.action(s.sessions.End))).Methods("POST")
	a.HandleFunc("/sessions/{id}/renew", s.requireAgent(s.action(s.sessions.Renew))).Methods("POST")
	a.HandleFunc("/sessions/{id}/unlock", s.requireAgent(s.action(s.gates.UnlockGate))).Methods("POST")
	a.HandleFunc("/sessions/{id}/reminders/pause", s.requireAgent(s.action(s.follow.PauseReminders))).Methods("POST")
	a.HandleFunc("/sessions/{id}/reminders/resume", s.requireAgent(s.action(s.follow.ResumeReminders))).Methods("POST")
	a.HandleFunc("/sessions/{id}/reengage", s.requireAgent(s.reengage)).Methods("POST")
	a.HandleFunc("/sessions/{id}/tasks", s.requireAgent(s.addTask)).Methods("POST")
	a.HandleFunc("/sessions/{id}/tasks/{taskID}", s.requireAgent(s.withdrawTask)).Methods("DELETE")
	a.HandleFunc("/sessions/{id}/link", s.requireAgent(s.newLink)).Methods("POST")
	a.HandleFunc("/sessions/{id}/pin", s.requireAgent(rec.pin)).Methods("GET")
	a.HandleFunc("/sessions/{id}/events", s.requireAgent(s.events)).Methods("GET")
	a.HandleFunc("/sessions/{id}/verify", s.requireAgent(rec.verify)).Methods("GET")
	a.HandleFunc("/sessions/{id}/export", s.requireAgent(rec.export)).Methods("GET")
	a.HandleFunc("/sessions/{id}/certificate", s.requireAgent(rec.certify)).Methods("POST")
	a.HandleFunc("/sessions/{id}/erase", s.requireAdmin(rec.erase)).Methods("POST")
	a.HandleFunc("/sessions/{id}/settings", s.requireAgent(s.sessionSettings)).Methods("GET")
	a.HandleFunc("/sessions/{id}/tasks/{taskID}/document", s.requireAgent(s.attachDocument)).Methods("POST")
	a.HandleFunc("/sessions/{id}/assets", s.requireAgent(s.listAssets)).Methods("GET")
	a.HandleFunc("/sessions/{id}/assets/{asset}", s.asset).Methods("GET")

	a.HandleFunc("/customer/session", s.customerSession).Methods("GET")
	a.HandleFunc("/customer/new-link", s.customerNewLink).Methods("POST")
	fu := followups{follow: s.follow, gates: s.gates}
	a.HandleFunc("/customer/time-zone", withLink(fu.customerTimeZone)).Methods("POST")
	lang := languages{gates: s.gates}
	a.HandleFunc("/customer/language", withLink(lang.customerLanguage)).Methods("POST")
	a.HandleFunc("/customer/otp", withLink(s.customerOTP)).Methods("POST")
	a.HandleFunc("/customer/verify", withLink(s.customerVerify)).Methods("POST")
	a.HandleFunc("/customer/consent", withLink(s.customerConsent)).Methods("POST")
	a.HandleFunc("/customer/assets", withLink(s.customerAssets)).Methods("GET")
	a.HandleFunc("/customer/tasks/{taskID}/sign", s.withTask("sign", s.customerSign)).Methods("POST")
	a.HandleFunc("/customer/tasks/{taskID}/form", s.withTask("form", s.customerForm)).Methods("POST")
	a.HandleFunc("/customer/tasks/{taskID}/upload", s.withTask("upload", s.customerUpload)).Methods("POST")
	a.HandleFunc("/customer/tasks/{taskID}/consent", s.withTask("consent", s.customerTaskConsent)).Methods("POST")

	// The pages and their modules go compressed to browsers that take it
	// (a phone on a slow link loads the customer page in a third of the
	// bytes); the WebSocket and files are left alone.
	pages := compressed()
	r.HandleFunc("/stop/{token}", fu.stopReminders).Methods("GET", "POST")
	r.Handle("/c/{token}", pages(http.HandlerFunc(lang.customerPage))).Methods("GET")
	r.Handle("/i18n/{lang}.json", pages(http.HandlerFunc(lang.catalog))).Methods("GET")
	r.PathPrefix("/").Handler(pages(static.Handler())).Methods("GET")
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 while the backend (or a live part) is unreachable.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.store.Ping(ctx)
	if err == nil && s.opts.Ready != nil {
		err = s.opts.Ready(ctx)
	}
	if err != nil {
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("not ready")
		writeCode(w, "backend_unavailable", "not ready: "+strings.SplitN(err.Error(), ":", 2)[0])
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// compressed wraps the pages' handlers: gzip for text, JavaScript, CSS,
// JSON and SVG of 1 KiB or more, when the browser asks for it.
func compressed() func(http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.ContentTypes([]string{
		"text/html", "text/css", "text/javascript", "application/javascript", "application/json", "image/svg+xml",
	}))
	if err != nil {
		// The options are fixed, so this does not happen; pages then go
		// as they are.
		return func(h http.Handler) http.Handler { return h }
	}
	return func(h http.Handler) http.Handler { return wrap(h) }
}
