package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/rooms"
)

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var req rooms.CreateRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	sess, err := s.sessions.Create(r.Context(), agentFrom(r), req)
	reply(w, r, http.StatusCreated, sess, err)
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	sess, err := s.sessions.Show(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, sess, err)
}

// action serves the body-less POSTs: invite, end, renew, unlock, seen.
func (s *Server) action(fn func(context.Context, *rooms.Agent, string) (*rooms.Session, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := decodeOptional(w, r); err != nil {
			writeError(w, r, err)
			return
		}
		sess, err := fn(r.Context(), agentFrom(r), mux.Vars(r)["id"])
		reply(w, r, http.StatusOK, sess, err)
	}
}

type reengageRequest struct {
	Customer *rooms.Customer `json:"customer"`
	// Language, when given, changes the customer's language.
	Language *string `json:"language"`
}

func (s *Server) reengage(w http.ResponseWriter, r *http.Request) {
	var req reengageRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Customer == nil {
		writeError(w, r, invalid("customer", "is required"))
		return
	}
	sess, err := s.sessions.ReengageIn(r.Context(), agentFrom(r), mux.Vars(r)["id"], *req.Customer, req.Language)
	reply(w, r, http.StatusOK, sess, err)
}

func (s *Server) addTask(w http.ResponseWriter, r *http.Request) {
	var req rooms.TaskRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	task, err := s.sessions.AddTask(r.Context(), agentFrom(r), mux.Vars(r)["id"], req)
	reply(w, r, http.StatusCreated, task, err)
}

func (s *Server) withdrawTask(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	sess, err := s.sessions.WithdrawTask(r.Context(), agentFrom(r), v["id"], v["taskID"])
	reply(w, r, http.StatusOK, sess, err)
}

func (s *Server) newLink(w http.ResponseWriter, r *http.Request) {
	if err := decodeOptional(w, r); err != nil {
		writeError(w, r, err)
		return
	}
	link, err := s.sessions.NewLink(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, link, err)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err1 := intParam(q.Get("since"), 0)
	limit, err2 := intParam(q.Get("limit"), 1000)
	switch {
	case err1 != nil || since < 0:
		writeError(w, r, invalid("since", "must be a whole number, 0 or more"))
		return
	case err2 != nil || limit < 1 || limit > 10000:
		writeError(w, r, invalid("limit", "must be between 1 and 10000"))
		return
	}
	evs, err := s.sessions.Events(r.Context(), agentFrom(r), mux.Vars(r)["id"], since, int(limit))
	reply(w, r, http.StatusOK, map[string][]rooms.Event{"events": evs}, err)
}

// sessionSettings answers with the settings a session runs under: the
// console's room assigns from their templates and says in words what
// the customer keeps after an end.
func (s *Server) sessionSettings(w http.ResponseWriter, r *http.Request) {
	set, err := s.sessions.SessionSettings(r.Context(), agentFrom(r), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, set, err)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), 50)
	if err != nil || limit < 1 || limit > 200 {
		writeError(w, r, invalid("limit", "must be between 1 and 200"))
		return
	}
	updated := q.Get("updated")
	if updated != "" && updated != "true" && updated != "false" {
		writeError(w, r, invalid("updated", "must be true or false"))
		return
	}
	h, err := s.sessions.History(r.Context(), agentFrom(r), rooms.HistoryQuery{
		Scope: q.Get("scope"), Status: q.Get("status"), Updated: updated == "true",
		Q: q.Get("q"), Limit: int(limit), Cursor: q.Get("cursor"),
	})
	reply(w, r, http.StatusOK, h, err)
}

func intParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// reply writes v with status, or the error.
func reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}
