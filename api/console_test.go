package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

// TestConsoleReads: what the console reads besides the contract's fields:
// /api/me says which history scopes and phone region apply and how each
// settings team treats customers; a session's settings say what the room
// needs (templates, gates, what the customer keeps after an end, with a
// team's override); the customer's view names the agent's team.
func TestConsoleReads(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		support := e.do("GET", "/api/teams/"+e.support, "admin", nil).want(200)
		var team rooms.Team
		support.into(&team)
		team.Settings.CustomerAuthentication = "pin"
		team.Settings.Consent = rooms.ConsentSetting{Required: true, Text: "I agree to share my documents."}
		team.Settings.TaskTemplates = []rooms.TaskTemplate{{Kind: "sign", Title: "Sign the offer"}}
		d := rooms.Duration(24 * time.Hour)
		team.Settings.EndSessionAccess = &rooms.EndAccess{Mode: rooms.AccessFullFor, Duration: d}
		e.do("PUT", "/api/teams/"+e.support, "admin", team).want(200)
		alex := e.agents["alex"]
		e.do("PUT", "/api/agents/"+alex.ID, "admin", map[string]any{"email": alex.Email, "name": alex.Name, "role": "agent",
			"team_id": e.sales, "settings_team_ids": []string{e.support}, "disabled": false}).want(200)

		var me struct {
			HistorySearchSpace string `json:"history_search_space"`
			PhoneDefaultRegion string `json:"phone_default_region"`
			SettingsTeams      []struct {
				ID, Name               string
				CustomerAuthentication string `json:"customer_authentication"`
				ConsentRequired        bool   `json:"consent_required"`
			} `json:"settings_teams"`
		}
		e.do("GET", "/api/me", "alex", nil).want(200).into(&me)
		if me.HistorySearchSpace != "team" || me.PhoneDefaultRegion != "US" || len(me.SettingsTeams) != 2 {
			t.Fatalf("me: %+v", me)
		}
		for _, st := range me.SettingsTeams {
			if st.ID == e.support && (st.CustomerAuthentication != "pin" || !st.ConsentRequired || st.Name != "Support") {
				t.Fatalf("support as a settings team: %+v", st)
			}
		}

		plain := e.startSession("alex", "plain@example.com")
		var set rooms.SessionSettings
		e.do("GET", "/api/sessions/"+plain.ID+"/settings", "alex", nil).want(200).into(&set)
		if set.Team.Name != "Sales" || set.CustomerAuthentication != "none" || set.EndSessionAccess.Mode != rooms.AccessLimitedFor ||
			set.EndSessionAccess.Duration.Std() != 72*time.Hour || set.CustomerAccessDuration.Std() != 72*time.Hour ||
			set.TaskTemplates == nil || set.InvitationMode != "builtin" || !set.SMSEnabled {
			t.Fatalf("a Sales session's settings: %+v", set)
		}

		s := e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start", "settings_team_id": e.support, "pin": "246813",
			"customer": map[string]string{"name": "Dana", "email": "dana@example.com"}}).want(201).session()
		e.do("GET", "/api/sessions/"+s.ID+"/settings", "sam", nil).want(200).into(&set)
		if set.Team.Name != "Support" || set.CustomerAuthentication != "pin" || set.Consent.Text != "I agree to share my documents." ||
			len(set.TaskTemplates) != 1 || set.EndSessionAccess.Mode != rooms.AccessFullFor || set.EndSessionAccess.Duration.Std() != 24*time.Hour {
			t.Fatalf("a session with Support's settings: %+v", set)
		}
		e.do("GET", "/api/sessions/"+s.ID+"/settings", "riley", nil).wantError(404, "not_found")

		// The agent who set the PIN reads it again; a supervisor may not,
		// and no session reply carries it.
		var pin map[string]string
		e.do("GET", "/api/sessions/"+s.ID+"/pin", "alex", nil).want(200).into(&pin)
		if pin["pin"] != "246813" {
			t.Fatalf("the PIN read back: %v", pin)
		}
		e.do("GET", "/api/sessions/"+s.ID+"/pin", "sam", nil).wantError(403, "forbidden")
		if body := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).body; strings.Contains(string(body), "246813") {
			t.Fatal("a session reply carries the PIN")
		}

		var view rooms.CustomerView
		e.customer("GET", "/api/customer/session", e.linkSentTo("dana@example.com")).want(200).into(&view)
		if view.Team != "Sales" || view.Agent != "Alex" {
			t.Fatalf("customer view: agent %q, team %q", view.Agent, view.Team)
		}
	})
}
