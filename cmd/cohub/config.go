package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/internal/redisconn"
	"github.com/cohub/cohub/sso"
)

// config is every flag of DESIGN.md §7; each has a COHUB_* variable.
type config struct {
	Addr          string
	MetricsAddr   string
	Redis         string
	RedisCluster  string
	RedisSentinel string
	RedisMaster   string
	// RedisSentinelPassword: the sentinels' requirepass.
	RedisSentinelPassword string
	// RedisReplicas: -1 for the topology's default (redisconn.Options).
	RedisReplicas  int
	RedisWait      time.Duration
	Secret         string
	PublicURL      string
	AllowedOrigins string
	TrustedProxies string
	PresenceTTL    time.Duration
	LeaveGrace     time.Duration
	// FollowupMinDelay and FollowupPoll: --followup-min-delay and
	// --followup-poll.
	FollowupMinDelay, FollowupPoll time.Duration
	MaxRoomEvents                  int64
	BlobURL                        string
	MaxUpload                      int64
	// MaxConns bounds the open connections of the public listener; 0
	// means the file-descriptor limit less a reserve (netlimit.Max).
	MaxConns      int
	LogFormat     string
	LogLevel      string
	SMTPURL       string
	SMSWebhookURL string
	AdminEmail    string
	AdminPassword string
	// SigningCert and SigningKey are PEM, or the paths of PEM files.
	SigningCert string
	SigningKey  string
	TSAURL      string
	TSARequired bool
	// URLCredentials: --ws-url-credentials.
	URLCredentials bool
	// Store is the embedded backend without Redis: embedded (on disk,
	// the default) or memory.
	Store string
	// DataDir is the embedded backend's directory.
	DataDir string
	Demo    bool
	demoSet bool
	// WebhookAllowPrivate lets webhooks go over http and to loopback and
	// private addresses.
	WebhookAllowPrivate bool
	// OIDC* sign agents in through an OpenID provider (empty issuer: off).
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCName         string
}

// parseConfig reads flags, with COHUB_* variables as their defaults:
// a flag given on the command line wins over the environment.
func parseConfig(args []string, env func(string) string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("cohub", flag.ContinueOnError)
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, envOr(env, name, def), usage+" ("+envName(name)+")")
	}
	str(&c.Addr, "addr", ":8080", "listen address")
	str(&c.MetricsAddr, "metrics-addr", "", "listen address of Prometheus /metrics, such as 127.0.0.1:9090; keep it off the public network (empty: off)")
	str(&c.Redis, "redis", "", "Redis URL, redis:// or rediss://; empty runs the embedded backend (--store)")
	str(&c.Store, "store", "", "without Redis: embedded (default: everything kept on disk in --data-dir) or memory (everything lost when the process stops; for tests and trials)")
	str(&c.DataDir, "data-dir", app.DefaultDataDir, "the embedded backend's directory: store, files, link secret and demo logins (created owner-only)")
	str(&c.RedisCluster, "redis-cluster", "", "Redis Cluster nodes, host:port,host:port")
	str(&c.RedisSentinel, "redis-sentinel", "", "Redis Sentinels, host:port,host:port (with --redis-master; --redis then only gives credentials)")
	str(&c.RedisMaster, "redis-master", "", "the master name the sentinels of --redis-sentinel monitor")
	str(&c.RedisSentinelPassword, "redis-sentinel-password", "", "the sentinels' own password (their requirepass); better set as COHUB_REDIS_SENTINEL_PASSWORD, which ps does not show")
	str(&c.Secret, "secret", "", "secret that signs customer links; required with Redis, shared by all nodes")
	str(&c.PublicURL, "public-url", "", "URL customers and agents reach Cohub at (default http://localhost:PORT)")
	str(&c.AllowedOrigins, "allowed-origins", "", "comma-separated origins allowed besides the public URL's")
	str(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of load balancers whose X-Forwarded-For is believed")
	str(&c.LogFormat, "log-format", "", "console or json (default: console on a terminal, else json)")
	str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	str(&c.SMTPURL, "smtp-url", "", "SMTP server for email invitations, smtp://user:pass@host:587?from=cohub@example.com")
	str(&c.SMSWebhookURL, "sms-webhook-url", "", "HTTP endpoint that receives SMS invitations as JSON {to, body}")
	str(&c.AdminEmail, "admin-email", "", "create this admin at start when no admin exists")
	str(&c.AdminPassword, "admin-password", "", "password of --admin-email (at least 10 characters)")
	str(&c.SigningCert, "signing-cert", "", "PEM certificate that seals signed copies (a file, or the PEM itself); with --signing-key; empty: a self-signed identity derived from --secret")
	str(&c.SigningKey, "signing-key", "", "PEM private key of --signing-cert (a file, or the PEM itself); better set as COHUB_SIGNING_KEY, which ps does not show")
	str(&c.TSAURL, "tsa-url", "", "RFC 3161 time-stamping authority whose time goes into every seal (empty: seals carry no timestamp)")
	var tsaRequired, urlCreds string
	str(&urlCreds, "ws-url-credentials", "false", "also accept credentials in WebSocket URLs (access_token, link), as before tickets, for clients not yet moved; they reach proxies' logs")
	str(&c.OIDCIssuer, "oidc-issuer", "", "OpenID Connect issuer URL for agents' single sign-on, such as https://login.example.com (empty: passwords only)")
	str(&c.OIDCClientID, "oidc-client-id", "", "Cohub's client id at --oidc-issuer; its redirect URI there is the public URL + /api/sso/callback")
	str(&c.OIDCClientSecret, "oidc-client-secret", "", "Cohub's client secret at --oidc-issuer; better set as COHUB_OIDC_CLIENT_SECRET, which ps does not show")
	str(&c.OIDCName, "oidc-name", "", "what the sign-in button calls the provider, \"Sign in with {name}\" (default: the issuer's host)")
	str(&tsaRequired, "tsa-required", "false", "refuse to sign (503) when the time-stamping authority gives no timestamp, instead of sealing without one")
	var allowPrivate string
	str(&allowPrivate, "webhook-allow-private", "false", "let webhook endpoints be http:// and on loopback or private addresses (link-local and metadata addresses stay refused)")
	var err error
	str(&c.BlobURL, "blob-url", "", "where files are kept: mem:// (default), file:///var/lib/cohub/blobs for one node, s3://bucket?region=… (any S3-compatible store, add &endpoint=…) for many")
	var ttl, grace, maxEvents, redisWait, replicas, maxUpload, maxConns, fuMin, fuPoll string
	str(&fuMin, "followup-min-delay", "5m", "the shortest delay, interval or quiet period the follow-up settings (reminders, away notices, expiry warnings) accept")
	str(&fuPoll, "followup-poll", "1s", "how often a node looks for follow-ups that are due (one is sent at most this late)")
	str(&maxUpload, "max-upload", "10MiB", "largest file a customer or agent may send, in bytes or with KiB/MiB")
	str(&maxConns, "max-conns", "0", "open connections this node keeps at most; past it new ones are closed at once (0: the file-descriptor limit less a reserve)")
	str(&redisWait, "redis-wait", "0s", "at start, wait this long for Redis to answer PING, then give up (0: don't wait, serve 503 until it is back)")
	str(&ttl, "presence-ttl", "10s", "how long a node's presence entries live without refresh")
	str(&grace, "leave-grace", "3s", "how long a closed customer connection still shows online")
	str(&maxEvents, "max-room-events", "10000", "events a room log holds at most")
	str(&replicas, "redis-min-replicas", "", "replicas that must hold a room commit before it is acknowledged (default 1 with Sentinel or Cluster, 0 with one Redis; 0 turns it off)")
	demo := &optionalBool{}
	if v := env(envName("demo")); v != "" {
		if err := demo.Set(v); err != nil {
			return nil, fmt.Errorf("%s: %w", envName("demo"), err)
		}
	}
	fs.Var(demo, "demo", "seed demo teams and logins (default on in embedded mode) ("+envName("demo")+")")
	if err = fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags take the form --name=value)", fs.Arg(0))
	}
	if c.PresenceTTL, err = positiveDuration("presence-ttl", ttl); err != nil {
		return nil, err
	}
	if c.LeaveGrace, err = positiveDuration("leave-grace", grace); err != nil {
		return nil, err
	}
	if c.FollowupMinDelay, err = positiveDuration("followup-min-delay", fuMin); err != nil {
		return nil, err
	}
	if c.FollowupPoll, err = positiveDuration("followup-poll", fuPoll); err != nil {
		return nil, err
	}
	if c.RedisWait, err = time.ParseDuration(redisWait); err != nil || c.RedisWait < 0 {
		return nil, fmt.Errorf("--redis-wait must be a duration such as 30s (0: don't wait)")
	}
	if c.MaxRoomEvents, err = strconv.ParseInt(maxEvents, 10, 64); err != nil || c.MaxRoomEvents < 1 {
		return nil, fmt.Errorf("--max-room-events must be a positive whole number")
	}
	if c.MaxUpload, err = parseSize(maxUpload); err != nil {
		return nil, fmt.Errorf("--max-upload must be a size such as 10MiB, 512KiB or 1048576 (at most 1GiB)")
	}
	if c.MaxConns, err = strconv.Atoi(maxConns); err != nil || c.MaxConns < 0 {
		return nil, fmt.Errorf("--max-conns must be a whole number, 0 or more (0: the file-descriptor limit less a reserve)")
	}
	c.RedisReplicas = -1
	if replicas != "" {
		if c.RedisReplicas, err = strconv.Atoi(replicas); err != nil || c.RedisReplicas < 0 {
			return nil, fmt.Errorf("--redis-min-replicas must be a whole number, 0 or more")
		}
	}
	if c.URLCredentials, err = strconv.ParseBool(urlCreds); err != nil {
		return nil, fmt.Errorf("--ws-url-credentials must be true or false")
	}
	if c.TSARequired, err = strconv.ParseBool(tsaRequired); err != nil {
		return nil, fmt.Errorf("--tsa-required must be true or false")
	}
	if c.WebhookAllowPrivate, err = strconv.ParseBool(allowPrivate); err != nil {
		return nil, fmt.Errorf("--webhook-allow-private must be true or false")
	}
	c.Demo, c.demoSet = demo.value, demo.set
	return c, c.check()
}

// parseSize reads bytes, or KiB, MiB, GiB; between 1 KiB and 1 GiB.
func parseSize(v string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = n, m
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 || n > (1<<30)/mult || n*mult < 1<<10 {
		return 0, errors.New("bad size")
	}
	return n * mult, nil
}

// blobURL is --blob-url; when not given, the data directory's file://
// bucket on the embedded backend (d), else mem://.
func (c *config) blobURL(d *app.DataDir) string {
	switch {
	case c.BlobURL != "":
		return c.BlobURL
	case d != nil:
		return d.BlobURL()
	}
	return "mem://"
}

// openOptions name the backend set.
func (c *config) openOptions() app.OpenOptions {
	return app.OpenOptions{Redis: c.redisOptions(0), Store: c.Store, DataDir: c.DataDir}
}

func (c *config) check() error {
	if err := c.redisOptions(0).Check(); err != nil {
		return err
	}
	switch {
	case c.Secret == "" && !c.embedded():
		return fmt.Errorf("--secret is required with Redis: every node must sign links alike")
	case c.Store != "" && !c.embedded():
		return fmt.Errorf("--store is for running without Redis; with Redis, leave it out")
	case c.Store != "" && c.Store != app.StoreEmbedded && c.Store != app.StoreMemory:
		return fmt.Errorf("--store must be %s or %s", app.StoreEmbedded, app.StoreMemory)
	case c.Secret != "" && len(c.Secret) < 16:
		return fmt.Errorf("--secret must be at least 16 characters")
	case (c.AdminEmail == "") != (c.AdminPassword == ""):
		return fmt.Errorf("--admin-email and --admin-password go together")
	case c.AdminPassword != "" && utf8.RuneCountInString(c.AdminPassword) < minPassword:
		return fmt.Errorf("--admin-password must be at least %d characters", minPassword)
	case len(c.AdminPassword) > maxPassword:
		return fmt.Errorf("--admin-password must be at most %d bytes (bcrypt's limit)", maxPassword)
	case c.LogFormat != "" && c.LogFormat != "console" && c.LogFormat != "json":
		return fmt.Errorf("--log-format must be console or json")
	case !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel):
		return fmt.Errorf("--log-level must be debug, info, warn or error")
	case (c.OIDCIssuer == "") != (c.OIDCClientID == ""):
		return fmt.Errorf("--oidc-issuer and --oidc-client-id go together")
	case c.OIDCIssuer == "" && (c.OIDCClientSecret != "" || c.OIDCName != ""):
		return fmt.Errorf("--oidc-client-secret and --oidc-name need --oidc-issuer")
	}
	if _, err := c.provider(); err != nil {
		return fmt.Errorf("--oidc-issuer: %w", err)
	}
	if err := c.checkPublicURL(); err != nil {
		return err
	}
	_, err := c.proxies()
	return err
}

// The account rules of rooms (DESIGN.md §5), checked here too so that a
// bad --admin-password is refused at start with its reason.
const (
	minPassword = 10
	maxPassword = 72
)

// checkPublicURL refuses what would build broken customer links, such as
// "localhost:8080" (which parses as a URL of scheme "localhost").
func (c *config) checkPublicURL() error {
	if c.PublicURL == "" {
		return nil
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url must be an absolute http:// or https:// URL, such as https://cohub.example.com (got %q)", c.PublicURL)
	}
	return nil
}

func (c *config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			p += "/128"
			if strings.Contains(p, ".") {
				p = strings.TrimSuffix(p, "/128") + "/32"
			}
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not an address or CIDR", p)
		}
		out = append(out, prefix.Masked())
	}
	return out, nil
}

func (c *config) embedded() bool {
	return c.Redis == "" && c.RedisCluster == "" && c.RedisSentinel == ""
}

// redisOptions name the Redis topology; dialTries bounds the dials one
// command makes (zero: go-redis's default, 5).
func (c *config) redisOptions(dialTries int) redisconn.Options {
	return redisconn.Options{URL: c.Redis, Cluster: redisconn.List(c.RedisCluster),
		Sentinel: redisconn.List(c.RedisSentinel), Master: c.RedisMaster, SentinelPassword: c.RedisSentinelPassword,
		MinReplicas: c.RedisReplicas, DialTries: dialTries}
}

// demo is on by default in embedded mode only.
func (c *config) demo() bool {
	if c.demoSet {
		return c.Demo
	}
	return c.embedded()
}

func (c *config) publicURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	port := c.Addr[strings.LastIndexByte(c.Addr, ':')+1:]
	return "http://localhost:" + port
}

// provider is the OpenID provider agents sign in with; nil when off.
func (c *config) provider() (*sso.Provider, error) {
	if c.OIDCIssuer == "" {
		return nil, nil
	}
	return sso.New(sso.Config{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret,
		Name: c.OIDCName, RedirectURL: c.publicURL() + "/api/sso/callback"})
}

func (c *config) origins() []string {
	var out []string
	for _, o := range strings.Split(c.AllowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, strings.TrimRight(o, "/"))
		}
	}
	return out
}

func envName(flag string) string {
	return "COHUB_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func envOr(env func(string) string, flag, def string) string {
	if v := env(envName(flag)); v != "" {
		return v
	}
	return def
}

func positiveDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--%s must be a positive duration such as 10s", name)
	}
	return d, nil
}

// optionalBool is a boolean flag ("--demo", "--demo=false") that
// remembers whether it was given, since its default depends on the mode.
type optionalBool struct {
	value, set bool
}

func (b *optionalBool) String() string { return strconv.FormatBool(b.value) }

func (b *optionalBool) IsBoolFlag() bool { return true }

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("must be true or false")
	}
	b.value, b.set = v, true
	return nil
}
