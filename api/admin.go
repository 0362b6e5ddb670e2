package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	set, err := s.store.Settings(r.Context())
	reply(w, r, http.StatusOK, set, err)
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	var set rooms.Settings
	b, err := decode(w, r, &set)
	if err == nil {
		err = requireAll(b, set)
	}
	if err == nil && set.SSO.PasswordAdminsOnly && s.opts.SSO == nil {
		// Agents would have no way in.
		err = invalid("sso.password_admins_only", "needs single sign-on: start Cohub with --oidc-issuer")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	set, err = s.accounts.PutSettings(r.Context(), set)
	reply(w, r, http.StatusOK, set, err)
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	teams, err := s.store.ListTeams(r.Context())
	for i, t := range teams {
		teams[i] = t.Public()
	}
	reply(w, r, http.StatusOK, map[string][]*rooms.Team{"teams": teams}, err)
}

type teamRequest struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	Settings *rooms.TeamSettings `json:"settings"`
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) {
	// Settings left out keep the defaults of a team created with a name.
	defaults := rooms.DefaultTeamSettings()
	req := teamRequest{Settings: &defaults}
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	t, err := s.accounts.CreateTeam(r.Context(), req.Name, req.Settings)
	reply(w, r, http.StatusCreated, t, err)
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.Team(r.Context(), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, t.Public(), err)
}

// templateIndex reads a task template's place in its team's list.
func templateIndex(r *http.Request) (int, error) {
	i, err := strconv.Atoi(mux.Vars(r)["index"])
	if err != nil || i < 0 {
		return 0, rooms.ErrNotFound
	}
	return i, nil
}

// putTemplateDocument gives a sign template the PDF its tasks carry.
func (s *Server) putTemplateDocument(w http.ResponseWriter, r *http.Request) {
	i, err := templateIndex(r)
	if err != nil {
		refuse(w, r, err)
		return
	}
	name, data, err := s.readFile(w, r, "a:"+agentFrom(r).ID, rooms.SniffPDF)
	if err != nil {
		refuse(w, r, err)
		return
	}
	t, err := s.files.SetTemplateDocument(r.Context(), mux.Vars(r)["id"], i, name, data)
	reply(w, r, http.StatusOK, t, err)
}

func (s *Server) deleteTemplateDocument(w http.ResponseWriter, r *http.Request) {
	i, err := templateIndex(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	t, err := s.files.RemoveTemplateDocument(r.Context(), mux.Vars(r)["id"], i)
	reply(w, r, http.StatusOK, t, err)
}

func (s *Server) putTeam(w http.ResponseWriter, r *http.Request) {
	var t rooms.Team
	b, err := decode(w, r, &t)
	if err == nil {
		err = requireAll(b, t, "id")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	t.ID = mux.Vars(r)["id"]
	out, err := s.accounts.UpdateTeam(r.Context(), &t)
	reply(w, r, http.StatusOK, out, err)
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	agents, err := s.store.ListAgents(r.Context())
	reply(w, r, http.StatusOK, map[string][]*rooms.Agent{"agents": agents}, err)
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	var in rooms.AgentInput
	if _, err := decode(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.accounts.CreateAgent(r.Context(), in)
	reply(w, r, http.StatusCreated, a, err)
}

func (s *Server) putAgent(w http.ResponseWriter, r *http.Request) {
	var in rooms.AgentInput
	b, err := decode(w, r, &in)
	if err == nil {
		err = requireAll(b, in, "id")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	id := mux.Vars(r)["id"]
	if in.Disabled && id == agentFrom(r).ID {
		writeError(w, r, fmt.Errorf("%w: you cannot disable your own account", rooms.ErrInvalidState))
		return
	}
	a, err := s.accounts.UpdateAgent(r.Context(), id, in)
	reply(w, r, http.StatusOK, a, err)
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request) {
	msgs := []notify.Message{}
	if s.outbox != nil {
		list, err := s.outbox.List(r.Context(), 200)
		if err != nil {
			writeError(w, r, fmt.Errorf("%w: %v", rooms.ErrUnavailable, err))
			return
		}
		msgs = append(msgs, list...)
	}
	writeJSON(w, http.StatusOK, map[string][]notify.Message{"messages": msgs})
}
