package api

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/errcode"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/sso"
)

// stateCookie binds a sign-in sent to the provider to the browser that
// started it: the callback's state must equal it, or a sign-in someone
// else started (login CSRF) is refused.
const stateCookie = "cohub_sso_state"

// signOn serves single sign-on: the sign-in page's button, the trip to
// the provider and back. Its routes are browser navigations, so a
// failure goes back to the sign-in page as /?sso_error=<code>.
type signOn struct {
	s        *Server
	sso      *rooms.SSOService
	provider *sso.Provider
}

type ssoInfo struct {
	Enabled bool   `json:"enabled"`
	Name    string `json:"name"`
}

// info tells the sign-in page whether to offer "Sign in with {name}".
func (o signOn) info(w http.ResponseWriter, r *http.Request) {
	out := ssoInfo{}
	if o.provider != nil {
		out = ssoInfo{Enabled: true, Name: o.provider.Name()}
	}
	writeJSON(w, http.StatusOK, out)
}

// start sends the browser to the provider with a fresh state, nonce and
// PKCE challenge.
func (o signOn) start(w http.ResponseWriter, r *http.Request) {
	if o.provider == nil {
		writeError(w, r, rooms.ErrNotFound)
		return
	}
	p, err := o.sso.Begin(r.Context(), o.s.clientIP(r))
	if err != nil {
		o.fail(w, r, err)
		return
	}
	to, err := o.provider.AuthURL(r.Context(), p.State, p.Nonce, p.Verifier)
	if err != nil {
		o.fail(w, r, fmt.Errorf("%w: %v", rooms.ErrUnavailable, err))
		return
	}
	http.SetCookie(w, o.stateCookie(p.State, int(rooms.SSOStateTTL.Seconds())))
	redirect(w, to)
}

// callback is where the provider sends the browser back: the state
// checked against this browser's, the code redeemed with the verifier,
// the ID token verified, then the agent signed in as POST /api/login
// would.
func (o signOn) callback(w http.ResponseWriter, r *http.Request) {
	if o.provider == nil {
		writeError(w, r, rooms.ErrNotFound)
		return
	}
	http.SetCookie(w, o.stateCookie("", -1))
	token, a, err := o.finish(r)
	if err != nil {
		o.fail(w, r, err)
		return
	}
	zerolog.Ctx(r.Context()).Info().Bool("audit", true).Str("agent", a.ID).Msg("signed in with single sign-on")
	o.s.setLogin(w, token)
	redirect(w, "/")
}

func (o signOn) finish(r *http.Request) (string, *rooms.Agent, error) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(stateCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		return "", nil, fmt.Errorf("%w: the state is not the one this browser was sent with", rooms.ErrBadCredential)
	}
	p, err := o.sso.Take(ctx, state)
	if err != nil {
		return "", nil, fmt.Errorf("sso state: %w", err)
	}
	if e := q.Get("error"); e != "" {
		return "", nil, fmt.Errorf("%w: the provider refused: %.40q", rooms.ErrBadCredential, e)
	}
	id, err := o.provider.Exchange(ctx, q.Get("code"), p.Verifier, p.Nonce)
	if errors.Is(err, sso.ErrFailed) {
		return "", nil, fmt.Errorf("%w: %v", rooms.ErrBadCredential, err)
	} else if err != nil {
		return "", nil, fmt.Errorf("%w: %v", rooms.ErrUnavailable, err)
	}
	return o.sso.SignIn(ctx, rooms.SSOIdentity{Email: id.Email, EmailVerified: id.EmailVerified, Name: id.Name})
}

// fail sends the browser back to the sign-in page with the error's
// code; the reason, which never holds the code or a token, goes to the
// log.
func (o signOn) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := errcode.Of(err).Code
	zerolog.Ctx(r.Context()).Warn().Str("code", code).Str("reason", err.Error()).Msg("single sign-on refused")
	redirect(w, "/?sso_error="+url.QueryEscape(code))
}

func (o signOn) stateCookie(value string, maxAge int) *http.Cookie {
	c := o.s.cookie(stateCookie, value, maxAge)
	c.Path = "/api/sso/"
	return c
}

// redirect answers 302 without a body: http.Redirect writes HTML, which
// the API's one content type (JSON) does not allow.
func redirect(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
