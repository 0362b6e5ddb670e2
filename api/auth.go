package api

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/rooms"
)

// authCookie names the agent's login cookie; a customer's pass lives in
// a cookie of its session's (rooms.CustomerCookie).
const authCookie = "cohub_auth"

// signedInCookie tells the console's script, which cannot read the
// HttpOnly login cookie, that a login may be there: a page opened signed
// out shows the sign-in form without asking /api/me for a 401 (which
// browsers log as an error). It holds no secret and grants nothing.
const signedInCookie = "cohub_signed_in"

// agentFrom returns the agent a request is authenticated as.
func agentFrom(r *http.Request) *rooms.Agent {
	a, _ := r.Context().Value(agentKey).(*rooms.Agent)
	return a
}

// credential takes the bearer token, else the cookie, and says which.
func credential(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false
		}
		return "", false
	}
	if c, err := r.Cookie(authCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

// requireAgent authenticates the agent; a cookie-authenticated request
// that changes state must come from one of our origins (CSRF).
func (s *Server) requireAgent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, fromCookie := credential(r)
		if token == "" {
			writeError(w, r, errUnauth)
			return
		}
		a, err := s.accounts.Authenticate(r.Context(), token)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if fromCookie && !safeMethod(r.Method) && !s.sameOrigin(r, true) {
			writeError(w, r, errCrossOrigin)
			return
		}
		if a.APIKey != "" {
			// The audit trail of integrations: which key acted, as whom.
			zerolog.Ctx(r.Context()).Info().Bool("audit", true).Str("api_key", a.APIKey).Str("agent", a.ID).
				Str("method", r.Method).Str("route", routeOf(r)).Msg("api key used")
		}
		next(w, r.WithContext(withAgentCtx(r.Context(), a)))
	}
}

// requireAdmin lets only admins through.
func (s *Server) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return s.requireAgent(func(w http.ResponseWriter, r *http.Request) {
		if agentFrom(r).Role != rooms.RoleAdmin {
			writeError(w, r, rooms.ErrForbidden)
			return
		}
		next(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin checks the Origin header against the request's own host,
// the public URL and the allowed origins. must says whether a missing
// Origin fails.
func (s *Server) sameOrigin(r *http.Request, must bool) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return !must
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range s.origins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// clientIP is the address login limits count per IP: the peer, or,
// when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one (so a load balancer's own address
// never stands for every user).
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(ip) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if ip = hop; !s.trusted(hop) {
			break
		}
	}
	return ip.String()
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginReply struct {
	Token string       `json:"token"`
	Agent *rooms.Agent `json:"agent"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r, false) {
		writeError(w, r, errCrossOrigin)
		return
	}
	var req loginRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	token, a, err := s.accounts.Login(r.Context(), req.Email, req.Password, s.clientIP(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.setLogin(w, token)
	writeJSON(w, http.StatusOK, loginReply{Token: token, Agent: a})
}

// setLogin sets the cookies of a new login, however it was made (a
// password, single sign-on).
func (s *Server) setLogin(w http.ResponseWriter, token string) {
	ttl := int(s.accounts.TokenTTL().Seconds())
	http.SetCookie(w, s.cookie(authCookie, token, ttl))
	http.SetCookie(w, hint(s.cookie(signedInCookie, "1", ttl)))
}

// logout ends this login, or with ?all=1 every login of the caller.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	token, _ := credential(r)
	var err error
	switch r.URL.Query().Get("all") {
	case "", "0", "false":
		err = s.accounts.Logout(r.Context(), token)
	case "1", "true":
		err = s.accounts.LogoutAll(r.Context(), agentFrom(r))
	default:
		err = invalid("all", "must be 1 or true")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(authCookie, "", -1))
	http.SetCookie(w, hint(s.cookie(signedInCookie, "", -1)))
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(s.opts.PublicURL, "https://")}
}

// hint is a cookie the pages' scripts may read.
func hint(c *http.Cookie) *http.Cookie {
	c.HttpOnly = false
	return c
}

// teamRef is a team whose settings the agent may use, with what the new
// session form needs to know of it.
type teamRef struct {
	ID                     string `json:"id"`
	Name                   string `json:"name"`
	CustomerAuthentication string `json:"customer_authentication"`
	ConsentRequired        bool   `json:"consent_required"`
}

type meReply struct {
	*rooms.Agent
	SettingsTeams      []teamRef `json:"settings_teams"`
	SMSEnabled         bool      `json:"sms_enabled"`
	InvitationMode     string    `json:"invitation_mode"`
	HistorySearchSpace string    `json:"history_search_space"`
	PhoneDefaultRegion string    `json:"phone_default_region"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	a := agentFrom(r)
	ctx := r.Context()
	set, err := s.store.Settings(ctx)
	if err != nil {
		writeError(w, r, err)
		return
	}
	teams, err := s.accounts.SettingsTeams(ctx, a)
	if err != nil {
		writeError(w, r, err)
		return
	}
	reply := meReply{Agent: a, SettingsTeams: []teamRef{}, SMSEnabled: set.SMSEnabled, InvitationMode: set.InvitationMode,
		HistorySearchSpace: set.HistorySearchSpace, PhoneDefaultRegion: set.PhoneDefaultRegion}
	for _, t := range teams {
		reply.SettingsTeams = append(reply.SettingsTeams, teamRef{ID: t.ID, Name: t.Name,
			CustomerAuthentication: t.Settings.CustomerAuthentication, ConsentRequired: t.Settings.Consent.Required})
	}
	writeJSON(w, http.StatusOK, reply)
}

// routeOf is the request's route template (/api/sessions/{id}), or its
// path when none matched.
func routeOf(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		if tpl, err := route.GetPathTemplate(); err == nil {
			return tpl
		}
	}
	return r.URL.Path
}
