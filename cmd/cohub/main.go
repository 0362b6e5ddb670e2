// Command cohub runs the Cohub server: it turns flags into a backend set
// and internal/app's wiring (stores → domain → hub → HTTP edge), and
// nothing else.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/hub"
	"github.com/cohub/cohub/internal/netlimit"
	"github.com/cohub/cohub/internal/redisconn"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

func main() {
	if len(os.Args) > 1 && commands[os.Args[1]] != nil {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		code := runCommand(ctx, os.Args[1], os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cohub:", err)
		os.Exit(2)
	}
	log := newLogger(cfg, os.Stderr)
	redisLogs.to(log)
	redis.SetLogger(redisLogs)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Before listening: a node that cannot start must not take traffic.
	if err := waitForRedis(ctx, cfg, log); err != nil {
		if ctx.Err() != nil {
			return // stopped while waiting
		}
		log.Error().Err(err).Msg("cannot start")
		os.Exit(2)
	}
	lns, err := listen(cfg, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot listen")
		os.Exit(1)
	}
	if err := run(ctx, cfg, log, terminal(os.Stdout), lns); err != nil {
		if errors.Is(err, app.ErrDirInUse) {
			log.Error().Err(err).Msg("cannot start")
			os.Exit(2)
		}
		log.Error().Err(err).Msg("cohub stopped")
		os.Exit(1)
	}
}

// listeners are the sockets run serves: the public one and, when
// --metrics-addr is set, the one for Prometheus.
type listeners struct {
	public, metrics net.Listener
}

func listen(cfg *config, log zerolog.Logger) (listeners, error) {
	var lns listeners
	var err error
	if lns.public, err = net.Listen("tcp", cfg.Addr); err != nil {
		return lns, err
	}
	// Past the file-descriptor limit every accept and file open would
	// fail: new connections are refused first.
	lns.public = netlimit.New(lns.public, cfg.MaxConns, log)
	if cfg.MetricsAddr != "" {
		if lns.metrics, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			_ = lns.public.Close()
			return lns, fmt.Errorf("--metrics-addr: %w", err)
		}
	}
	return lns, nil
}

// run serves on lns until ctx ends, then shuts down gracefully. console
// is a person's terminal, or nil when there is none: demo passwords are
// printed only there.
func run(ctx context.Context, cfg *config, log zerolog.Logger, console io.Writer, lns listeners) error {
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.seed(ctx, cfg, console, log); err != nil {
		return err
	}
	go a.Service.Sessions.RunAutoEnd(ctx, 15*time.Second)
	go a.Service.Files.RunAssetSweep(ctx, time.Hour)
	a.Start(context.WithoutCancel(ctx))
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(lns.public) }()
	servers := []*http.Server{srv}
	if lns.metrics != nil {
		msrv := metricsServer(a.API.MetricsHandler())
		go func() { errc <- msrv.Serve(lns.metrics) }()
		servers = append(servers, msrv)
		log.Info().Str("addr", lns.metrics.Addr().String()).Msg("metrics listening")
	}
	log.Info().Str("addr", lns.public.Addr().String()).Str("public_url", cfg.publicURL()).Str("backend", a.Backend.Name).Msg("cohub listening")
	if cfg.URLCredentials {
		log.Warn().Msg("--ws-url-credentials: WebSockets also open with access_token or link in their URL, which proxies log; move clients to tickets (POST /api/ws/ticket) and turn it off")
	}
	// A listener that fails takes the node down whole, not half-serving.
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
	defer cancel()
	// Stop accepting first, then close the WebSockets with 1012: their
	// presence keeps the leave grace, so customers who reconnect to
	// another node never show offline.
	for _, s := range servers {
		if serr := s.Shutdown(sctx); err == nil {
			err = serr
		}
	}
	a.Stop()
	if herr := a.Node.Shutdown(sctx); err == nil {
		err = herr
	}
	return err
}

// metricsServer serves Prometheus at the path scrapers ask by default,
// and Go's profiles under /debug/pprof/ for measuring a node under load:
// the listener is the operator's own (off unless --metrics-addr is set).
func metricsServer(h http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// server is the wired server and what closes its backend.
type server struct {
	*app.App
	close func()
}

func build(ctx context.Context, cfg *config, log zerolog.Logger) (*server, error) {
	b, closeBackend, err := app.Open(cfg.openOptions(), log)
	if err != nil {
		return nil, err
	}
	switch {
	case b.DataDir != nil:
		log.Info().Str("data_dir", b.DataDir.Path).Msg("embedded backend: data kept on disk in " + b.DataDir.Path)
	case b.Name == app.StoreMemory:
		log.Warn().Msg("--store memory: everything (accounts, sessions, logs, files) is kept in this process's memory and lost when it stops")
	}
	if !cfg.embedded() {
		// The line below says Redis is away; go-redis's own lines would
		// repeat it for every client and retry.
		redisLogs.quietFor(redisLogWindow)
		if err := b.Store.Ping(ctx); err != nil {
			log.Warn().Err(err).Msg("redis unreachable at start; requests answer 503 until it is back")
		} else {
			redisLogs.quietFor(0)
		}
	}
	secret, err := linkSecret(cfg, b.DataDir)
	if err != nil {
		closeBackend()
		return nil, err
	}
	sender, err := senders(cfg, b.Outbox, log)
	if err != nil {
		closeBackend()
		return nil, err
	}
	files, err := openBlobs(ctx, cfg, b.DataDir, log)
	if err != nil {
		closeBackend()
		return nil, err
	}
	sealer, err := openSealer(cfg, secret, log)
	if err != nil {
		closeBackend()
		return nil, err
	}
	proxies, _ := cfg.proxies() // checked when the config was parsed
	provider, _ := cfg.provider()
	a := app.New(b, app.Config{
		Rooms: rooms.Config{Secret: secret, PublicURL: cfg.publicURL(), MaxRoomEvents: cfg.MaxRoomEvents,
			Blobs: files, MaxUpload: cfg.MaxUpload, Sealer: sealer, FollowupMinDelay: cfg.FollowupMinDelay},
		Hub: hub.Config{Origins: originPatterns(cfg), PresenceTTL: cfg.PresenceTTL, LeaveGrace: cfg.LeaveGrace,
			URLCredentials: cfg.URLCredentials},
		API:    api.Options{AllowedOrigins: cfg.origins(), TrustedProxies: proxies, SSO: provider},
		Sender: sender, Log: log, Webhooks: webhooks.Options{AllowPrivate: cfg.WebhookAllowPrivate},
		Followups: followup.Options{Poll: cfg.FollowupPoll},
	})
	return &server{App: a, close: closeBackend}, nil
}

// linkSecret is --secret; without it, the data directory's (made at
// first start) on the embedded backend, so links outlive a restart, and
// a new one at every start in memory.
func linkSecret(cfg *config, d *app.DataDir) ([]byte, error) {
	switch {
	case cfg.Secret != "":
		return []byte(cfg.Secret), nil
	case d != nil:
		return d.Secret()
	}
	return randomSecret(), nil
}

// openBlobs opens --blob-url (by default the data directory's file://
// bucket, d, on the embedded backend). With Redis, files in this
// process's memory are seen by this node only: start-up says so.
func openBlobs(ctx context.Context, cfg *config, d *app.DataDir, log zerolog.Logger) (blobs.Store, error) {
	if cfg.BlobURL == "" && !cfg.embedded() {
		log.Warn().Msg("files (signed copies, uploads) are kept in this node's memory: with more than one node, or to keep them over a restart, set --blob-url to a shared store (s3://…) or, for one node, a directory (file://…)")
	}
	b, err := blobs.Open(ctx, cfg.blobURL(d))
	if err != nil {
		return nil, fmt.Errorf("--blob-url: %w", err)
	}
	return b, nil
}

// originPatterns are the allowed origins as the WebSocket upgrade
// matches them (scheme://host).
func originPatterns(cfg *config) []string {
	var out []string
	for _, o := range append(cfg.origins(), cfg.publicURL()) {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Scheme+"://"+u.Host)
		}
	}
	return out
}

// redisClient connects to the topology cfg names; dialTries bounds the
// dials one command makes (zero: go-redis's default, 5).
func redisClient(cfg *config, dialTries int) (redis.UniversalClient, error) {
	return redisconn.New(cfg.redisOptions(dialTries))
}

// waitForRedis holds start-up, with --redis-wait, until Redis answers
// PING: a node started together with its Redis then begins ready, and a
// node whose Redis never comes fails where its supervisor sees it.
func waitForRedis(ctx context.Context, cfg *config, log zerolog.Logger) error {
	if cfg.RedisWait <= 0 || cfg.embedded() {
		return nil
	}
	rdb, err := redisClient(cfg, 1) // this loop is the retry, and keeps each try's reason
	if err != nil {
		return err
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, cfg.RedisWait)
	defer cancel()
	// Failed tries are expected here, and the error below reports them.
	redisLogs.quietFor(cfg.RedisWait)
	defer redisLogs.quietFor(0)
	log.Info().Str("redis", redisAddr(cfg)).Stringer("wait", cfg.RedisWait).Msg("waiting for Redis")
	var last error
	for try, pause := 1, 50*time.Millisecond; ; try, pause = try+1, min(2*pause, 2*time.Second) {
		err := rdb.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if last == nil || ctx.Err() == nil { // keep the reason, not the deadline that cut a try short
			last = err
		}
		log.Debug().Err(err).Int("try", try).Msg("redis not answering yet")
		select {
		case <-ctx.Done():
			return fmt.Errorf("--redis-wait: Redis at %s did not answer PING within %s: %w", redisAddr(cfg), cfg.RedisWait, last)
		case <-time.After(pause):
		}
	}
}

// redisAddr names the Redis server without the credentials its URL may
// carry.
func redisAddr(cfg *config) string { return cfg.redisOptions(0).Addr() }

// senders route email and SMS to SMTP and the webhook when configured,
// else to the outbox.
func senders(cfg *config, outbox notify.Outbox, log zerolog.Logger) (notify.Sender, error) {
	mux := notify.Mux{Email: outbox, SMS: outbox}
	if cfg.SMTPURL != "" {
		s, err := notify.NewSMTP(cfg.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("--smtp-url: %w", err)
		}
		mux.Email = s
	}
	if cfg.SMSWebhookURL != "" {
		mux.SMS = notify.NewSMSWebhook(cfg.SMSWebhookURL, nil)
	}
	return mux, nil
}

// seed creates the bootstrap admin and the demo accounts. Demo passwords
// are shown once and never logged: logs are collected and kept, a
// terminal is not, so without one they go to a file only its owner reads.
// On the embedded backend that file is in the data directory, made with
// the logins at first start; later starts say where it is.
func (a *server) seed(ctx context.Context, cfg *config, console io.Writer, log zerolog.Logger) error {
	if cfg.AdminEmail != "" {
		if _, err := a.Service.Accounts.BootstrapAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
	}
	if !cfg.demo() {
		return nil
	}
	logins, err := a.Service.Accounts.SeedDemo(ctx)
	if err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	d := a.Backend.DataDir
	if len(logins) == 0 {
		// Another node, or an earlier start, seeded them.
		if d != nil {
			if _, err := os.Stat(d.DemoLogins()); err == nil {
				sayLoginsAt(console, log, "demo logins (made at first start) are in "+d.DemoLogins(), d.DemoLogins())
			}
		}
		return nil
	}
	path := ""
	if d != nil {
		path = d.DemoLogins()
		err = writeLoginsTo(path, logins)
	} else if console == nil {
		path, err = writeLogins(logins)
	}
	if err != nil {
		return fmt.Errorf("demo logins: %w", err)
	}
	if console != nil {
		printLogins(console, logins)
	}
	if path != "" {
		sayLoginsAt(console, log, "demo logins written to "+path, path)
	}
	return nil
}

// sayLoginsAt tells where the demo logins are: on the terminal when
// there is one, and in the log (Log, not Info: the path must show at
// every --log-level).
func sayLoginsAt(console io.Writer, log zerolog.Logger, msg, path string) {
	if console != nil {
		fmt.Fprintln(console, msg+" (only you can read it)")
	}
	log.Log().Str("path", path).Msg(msg)
}

func newLogger(cfg *config, w io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel) // checked when the config was parsed
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if terminal(w) != nil {
			format = "console"
		}
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// terminal returns w when it is a terminal, else nil.
func terminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		return w
	}
	return nil
}

func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
