// Package sso is Cohub's OpenID Connect client: the authorization code
// flow with PKCE, state and nonce against one provider, through
// go-oidc and x/oauth2. It says who the provider vouches for; which
// agent that is, and whether they may sign in, is the domain's.
package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config names the provider and this client at it.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Cohub's callback as registered at the provider.
	RedirectURL string
	// Name is what the sign-in button calls the provider. Zero value:
	// the issuer's host.
	Name string
	// HTTPClient talks to the provider. Zero value: a client with a 10 s
	// timeout.
	HTTPClient *http.Client
}

// ErrFailed is a sign-in the provider's answer does not carry through:
// the code refused at the token endpoint, an ID token that is missing,
// forged, expired, for another client or with another nonce. It says
// no more to the user; the reason goes to the log.
var ErrFailed = errors.New("single sign-on did not complete")

// Identity is who the provider vouches for.
type Identity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Provider is one OpenID provider. Its discovery document is fetched on
// first use and kept once it answers, so Cohub starts while the provider
// is down.
type Provider struct {
	cfg    Config
	client *http.Client

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New returns a provider for cfg.
func New(cfg Config) (*Provider, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the issuer must be an http(s) URL, such as https://login.example.com (got %q)", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("a client id is required with an issuer")
	}
	if cfg.Name == "" {
		cfg.Name = u.Host
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg, client: client}, nil
}

// Name is what the sign-in button calls the provider.
func (p *Provider) Name() string { return p.cfg.Name }

// discover fetches the provider's endpoints and keys' address once.
func (p *Provider) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oauth != nil {
		return p.oauth, p.verifier, nil
	}
	op, err := oidc.NewProvider(p.ctx(ctx), p.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("openid discovery at %s: %w", p.cfg.Issuer, err)
	}
	p.oauth = &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: p.cfg.RedirectURL,
		Endpoint: op.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	// The verifier checks the signature against the provider's keys, the
	// issuer, the audience (our client id) and the expiry.
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID})
	return p.oauth, p.verifier, nil
}

// ctx carries the provider's HTTP client to go-oidc and x/oauth2; the
// key set go-oidc fetches later uses the context of the first call, so
// it must not be a request's.
func (p *Provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithoutCancel(ctx), p.client)
}

// AuthURL is where a browser goes to sign in: with state, the nonce the
// ID token must carry back, and the PKCE challenge of verifier.
func (p *Provider) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	oc, _, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange redeems a code with its PKCE verifier and returns whom the
// verified ID token names, if its nonce is the one sent.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (Identity, error) {
	oc, v, err := p.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	cctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), 15*time.Second)
	defer cancel()
	tok, err := oc.Exchange(cctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: token endpoint: %s", ErrFailed, oauthReason(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: no id_token in the token response", ErrFailed)
	}
	idt, err := v.Verify(cctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: id token: %v", ErrFailed, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return Identity{}, fmt.Errorf("%w: the id token's nonce is not the one sent", ErrFailed)
	}
	var c struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&c); err != nil {
		return Identity{}, fmt.Errorf("%w: id token claims: %v", ErrFailed, err)
	}
	return Identity{Subject: idt.Subject, Email: c.Email, EmailVerified: verified(c.EmailVerified), Name: c.Name}, nil
}

// verified reads email_verified, which some providers send as a string.
func verified(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

// oauthReason is a token endpoint's refusal without the response body,
// which may echo the code.
func oauthReason(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return re.ErrorCode
		}
		return re.Response.Status
	}
	return "unreachable"
}
