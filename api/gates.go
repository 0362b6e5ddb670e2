package api

import (
	"net/http"

	"github.com/cohub/cohub/rooms"
)

// customerToken is the token the customer's gates gave: the cookie, or
// X-Cohub-Customer for clients that keep it themselves.
func customerToken(r *http.Request) string {
	if h := r.Header.Get("X-Cohub-Customer"); h != "" {
		return h
	}
	if c, err := r.Cookie(customerCookie); err == nil {
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

func (s *Server) customerOTP(w http.ResponseWriter, r *http.Request, link string) {
	if err := decodeOptional(w, r); err != nil {
		writeError(w, r, err)
		return
	}
	sent, err := s.svc.SendOTP(r.Context(), link)
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
	out, err := s.svc.Verify(r.Context(), link, req.Code, req.PIN)
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
	out, err := s.svc.Consent(r.Context(), link, *req.Accept)
	s.gateReply(w, r, out, err)
}

// gateReply sets the customer cookie once every gate is passed.
func (s *Server) gateReply(w http.ResponseWriter, r *http.Request, out *rooms.GateReply, err error) {
	if err == nil && out.CustomerToken != "" {
		c := s.cookie(customerCookie, out.CustomerToken, int(out.ExpiresAt.Sub(s.svc.Now()).Seconds()))
		c.Secure = c.Secure || r.TLS != nil
		http.SetCookie(w, c)
	}
	reply(w, r, http.StatusOK, out, err)
}
