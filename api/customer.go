package api

import (
	"net/http"
	"strings"

	"github.com/cohub/cohub/static"
)

// linkToken reads "Authorization: Link {token}".
func linkToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Link") {
		return ""
	}
	return strings.TrimSpace(tok)
}

func (s *Server) customerSession(w http.ResponseWriter, r *http.Request) {
	tok := linkToken(r)
	if tok == "" {
		writeError(w, r, errUnauth)
		return
	}
	v, err := s.gates.CustomerView(r.Context(), tok, customerToken(r, tok))
	reply(w, r, http.StatusOK, v, err)
}

func (s *Server) customerNewLink(w http.ResponseWriter, r *http.Request) {
	tok := linkToken(r)
	if tok == "" {
		writeError(w, r, errUnauth)
		return
	}
	if err := decodeOptional(w, r); err != nil {
		writeError(w, r, err)
		return
	}
	sent, err := s.gates.RequestNewLink(r.Context(), tok, s.clientIP(r))
	reply(w, r, http.StatusAccepted, sent, err)
}

// customerPage serves the customer page for any token: the page itself
// asks the API, which checks the link, so a bad link shows its reason.
func (s *Server) customerPage(w http.ResponseWriter, r *http.Request) {
	static.ServeFile(w, r, "customer.html")
}
