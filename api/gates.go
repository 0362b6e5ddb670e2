package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/rooms"
)

// customerToken is the token a browser earned at a session's gates: the
// header X-Cohub-Customer for clients that keep it themselves, else the
// cookie of the link's session (one per session, so several gated
// sessions live side by side in one browser).
func customerToken(r *http.Request, link string) string {
	if h := r.Header.Get("X-Cohub-Customer"); h != "" {
		return h
	}
	if c, err := r.Cookie(rooms.CustomerCookie(rooms.LinkSessionID(link))); err == nil {
		return c.Value
	}
	return ""
}

// withLink runs a customer route with the link from "Authorization: Link".
func withLink(next func(w http.ResponseWriter, r *http.Request, link string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		link := linkToken(r)
		if link == "" {
			writeError(w, r, errUnauth)
			return
		}
		next(w, r, link)
	}
}

// withTask runs a customer's task route once the link, this browser's
// pass of the gates, the session and the task (its kind and state) allow
// it now, before the body is read: a refused request costs nothing but
// its headers, and closes the connection unread.
func (s *Server) withTask(kind string, next func(w http.ResponseWriter, r *http.Request, link string)) http.HandlerFunc {
	return withLink(func(w http.ResponseWriter, r *http.Request, link string) {
		if err := s.files.CustomerTaskOpen(r.Context(), link, customerToken(r, link), mux.Vars(r)["taskID"], kind); err != nil {
			refuse(w, r, err)
			return
		}
		next(w, r, link)
	})
}

func (s *Server) customerOTP(w http.ResponseWriter, r *http.Request, link string) {
	if err := decodeOptional(w, r); err != nil {
		writeError(w, r, err)
		return
	}
	sent, err := s.gates.SendOTP(r.Context(), link, s.clientIP(r))
	reply(w, r, http.StatusAccepted, sent, err)
}

type verifyRequest struct {
	Code string `json:"code"`
	PIN  string `json:"pin"`
}

func (s *Server) customerVerify(w http.ResponseWriter, r *http.Request, link string) {
	var req verifyRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if (req.Code == "") == (req.PIN == "") {
		writeError(w, r, &rooms.ValidationError{Fields: map[string]string{"code": "give exactly one of code or pin"}})
		return
	}
	out, err := s.gates.Verify(r.Context(), link, customerToken(r, link), req.Code, req.PIN)
	s.gateReply(w, r, out, err)
}

type consentRequest struct {
	Accept *bool `json:"accept"`
}

func (s *Server) customerConsent(w http.ResponseWriter, r *http.Request, link string) {
	var req consentRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Accept == nil {
		writeError(w, r, &rooms.ValidationError{Fields: map[string]string{"accept": "is required"}})
		return
	}
	out, err := s.gates.GiveConsent(r.Context(), link, customerToken(r, link), *req.Accept)
	s.gateReply(w, r, out, err)
}

// gateReply keeps what this browser passed in the session's customer
// cookie: HttpOnly, SameSite=Strict (only the page's own calls carry
// it), living as long as the link.
func (s *Server) gateReply(w http.ResponseWriter, r *http.Request, out *rooms.GateReply, err error) {
	if err == nil {
		c := s.cookie(rooms.CustomerCookie(out.Session.ID), out.Token(), int(out.ExpiresAt.Sub(s.sessions.Now()).Seconds()))
		c.Secure = c.Secure || r.TLS != nil
		c.SameSite = http.SameSiteStrictMode
		http.SetCookie(w, c)
	}
	reply(w, r, http.StatusOK, out, err)
}
