package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cohub/cohub/rooms"
)

// apiKeys serves the admins' API keys: named credentials integrations
// (a CRM) use as one agent through "Authorization: Bearer".
type apiKeys struct {
	keys *rooms.KeyService
}

type keyRequest struct {
	Name    string `json:"name"`
	AgentID string `json:"agent_id"`
}

type keyIssued struct {
	// Key is shown this once: the store keeps its hash.
	Key    string        `json:"key"`
	APIKey *rooms.APIKey `json:"api_key"`
}

func (k apiKeys) list(w http.ResponseWriter, r *http.Request) {
	keys, err := k.keys.List(r.Context())
	reply(w, r, http.StatusOK, map[string][]rooms.APIKey{"api_keys": keys}, err)
}

func (k apiKeys) issue(w http.ResponseWriter, r *http.Request) {
	var req keyRequest
	if _, err := decode(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	key, rec, err := k.keys.Issue(r.Context(), agentFrom(r), req.Name, req.AgentID)
	reply(w, r, http.StatusCreated, keyIssued{Key: key, APIKey: rec}, err)
}

func (k apiKeys) revoke(w http.ResponseWriter, r *http.Request) {
	err := k.keys.Revoke(r.Context(), mux.Vars(r)["id"])
	reply(w, r, http.StatusOK, map[string]bool{"ok": true}, err)
}
