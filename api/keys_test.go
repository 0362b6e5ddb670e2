package api_test

import (
	"strings"
	"testing"

	"github.com/cohub/cohub/rooms"
)

type issuedKey struct {
	Key    string       `json:"key"`
	APIKey rooms.APIKey `json:"api_key"`
}

// TestAPIKeys: an admin issues a named key that acts as one agent (an
// admin's as an admin); Authorization: Bearer takes it; a CRM starts a
// session for that agent with it; the key is shown once, listed with its
// last use, logged by name at every use, and revoked at once.
func TestAPIKeys(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.logs = &logBuffer{}
		e.start()
		var out issuedKey
		e.do("POST", "/api/api-keys", "admin", map[string]string{"name": "Acme CRM", "agent_id": e.agents["alex"].ID}).want(201).into(&out)
		if !strings.HasPrefix(out.Key, rooms.APIKeyPrefix) || out.APIKey.Name != "Acme CRM" || out.APIKey.AgentID != e.agents["alex"].ID ||
			out.APIKey.CreatedBy != e.agents["admin"].ID || out.APIKey.LastUsedAt != nil {
			t.Fatalf("issued %+v", out)
		}
		crm := "Bearer " + out.Key
		s := e.do("POST", "/api/sessions", crm, map[string]any{
			"mode": "start", "customer": map[string]string{"name": "Cara", "email": "crm@example.com"},
		}).want(201).session()
		if s.AgentID != e.agents["alex"].ID {
			t.Fatalf("the CRM's session belongs to %s", s.AgentID)
		}
		e.do("GET", "/api/settings", crm, nil).wantError(403, "forbidden") // alex is no admin

		var list struct {
			Keys []map[string]any `json:"api_keys"`
		}
		r := e.do("GET", "/api/api-keys", "admin", nil).want(200)
		r.into(&list)
		if len(list.Keys) != 1 || list.Keys[0]["last_used_at"] == nil || strings.Contains(string(r.body), out.Key) ||
			strings.Contains(string(r.body), rooms.TokenHash(out.Key)) {
			t.Fatalf("the list shows %s", r.body)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, `"api_key":"Acme CRM"`) || !strings.Contains(logs, `"route":"/api/sessions"`) || strings.Contains(logs, out.Key) {
			t.Fatalf("the audit lines do not name the key, or leak it:\n%s", logs)
		}

		var admin issuedKey
		e.do("POST", "/api/api-keys", "admin", map[string]string{"name": "Provisioning", "agent_id": e.agents["admin"].ID}).want(201).into(&admin)
		e.do("GET", "/api/settings", "Bearer "+admin.Key, nil).want(200)

		e.do("DELETE", "/api/api-keys/"+out.APIKey.ID, "admin", nil).want(200)
		e.do("GET", "/api/me", crm, nil).wantError(401, "unauthenticated")
		e.do("DELETE", "/api/api-keys/"+out.APIKey.ID, "admin", nil).wantError(404, "not_found")

		e.do("POST", "/api/api-keys", "admin", map[string]string{"name": "", "agent_id": "a_nobody"}).wantField("name").wantField("agent_id")
		e.do("GET", "/api/me", "Bearer "+rooms.APIKeyPrefix+"forged", nil).wantError(401, "unauthenticated")
	})
}

// A key acts only while its agent may sign in: disabling the agent stops
// their keys too.
func TestAPIKeyOfDisabledAgent(t *testing.T) {
	e := newEnv(t, "memory")
	var out issuedKey
	e.do("POST", "/api/api-keys", "admin", map[string]string{"name": "CRM", "agent_id": e.agents["blake"].ID}).want(201).into(&out)
	e.do("GET", "/api/me", "Bearer "+out.Key, nil).want(200)
	e.do("PUT", "/api/agents/"+e.agents["blake"].ID, "admin", map[string]any{"email": "blake@cohub.test", "name": "Blake",
		"role": "agent", "team_id": e.sales, "settings_team_ids": []string{}, "disabled": true}).want(200)
	e.do("GET", "/api/me", "Bearer "+out.Key, nil).wantError(401, "unauthenticated")
}
