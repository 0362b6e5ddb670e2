package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/rooms"
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

// customerPage serves the customer page for any token, in the
// customer's language: the page itself asks the API, which checks the
// link, so a bad link shows its reason.
func (l languages) customerPage(w http.ResponseWriter, r *http.Request) {
	lang := l.gates.CustomerLanguage(r.Context(), mux.Vars(r)["token"], r.Header.Get("Accept-Language"))
	static.CustomerPage(w, r, lang)
}

// catalog serves a language's page words to a customer switching to it.
func (l languages) catalog(w http.ResponseWriter, r *http.Request) {
	if !static.Catalog(w, r, mux.Vars(r)["lang"]) {
		writeError(w, r, rooms.ErrNotFound)
	}
}

type languageRequest struct {
	Language string `json:"language"`
}

// customerLanguage keeps the language the customer picked on the page.
func (l languages) customerLanguage(w http.ResponseWriter, r *http.Request, link string) {
	var req languageRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	lang, err := l.gates.SetCustomerLanguage(r.Context(), link, req.Language)
	reply(w, r, http.StatusOK, languageRequest{Language: lang}, err)
}
