package api

import (
	"net/http"

	"github.com/cohub/cohub/rooms"
	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// records serves the evidence of sessions: the hash chain's verdict, the
// export of a session's record, and who seals signed copies.
type records struct {
	sessions *rooms.SessionService
	evidence *rooms.EvidenceService
}

// pin shows the session's PIN to the agent who set it. It is not cached:
// a shared machine's next user must not find it.
func (s records) pin(w http.ResponseWriter, r *http.Request) {
	pin, err := s.sessions.PIN(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	w.Header().Set("Cache-Control", "no-store")
	reply(w, r, http.StatusOK, map[string]string{"pin": pin}, err)
}

// verify walks the session's hash chain.
func (s records) verify(w http.ResponseWriter, r *http.Request) {
	v, err := s.sessions.Verify(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, v, err)
}

// export sends the session's record as a zip. What can go wrong before
// the first byte is answered as an error; a file that fails later is
// listed as missing in the zip's manifest.
func (s records) export(w http.ResponseWriter, r *http.Request) {
	x, err := s.evidence.Export(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="cohub-session-`+x.Session.ID+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := x.WriteTo(r.Context(), w); err != nil {
		zerolog.Ctx(r.Context()).Warn().Err(err).Str("session", x.Session.ID).Msg("export cut short")
	}
}

// signingIdentity shows who signed copies are sealed as.
func (s records) signingIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := s.evidence.SigningIdentity()
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, id)
}

// certify makes the session's completion certificate now.
func (s records) certify(w http.ResponseWriter, r *http.Request) {
	a, err := s.evidence.Certify(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	reply(w, r, http.StatusCreated, a, err)
}

// erase answers a data-protection request for an ended session.
func (s records) erase(w http.ResponseWriter, r *http.Request) {
	out, err := s.evidence.Erase(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, out, err)
}
