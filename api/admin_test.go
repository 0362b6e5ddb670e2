package api

import (
	"strings"
	"testing"

	"github.com/cohub/cohub/rooms"
)

func TestSettings(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var got rooms.Settings
		e.do("GET", "/api/settings", "admin", nil).want(200).into(&got)
		if got != rooms.DefaultSettings() {
			t.Fatalf("defaults = %+v", got)
		}
		r := e.do("GET", "/api/settings", "admin", nil)
		for _, s := range []string{`"customer_access_duration":"72h"`, `"auto_end_after":"0s"`, `"end_session_access":{"mode":"limited_for","duration":"72h"}`} {
			if !strings.Contains(string(r.body), s) {
				t.Fatalf("settings JSON lacks %s: %s", s, r.body)
			}
		}
		put := map[string]any{"sms_enabled": false, "invitation_mode": "external",
			"end_session_access": map[string]any{"mode": "full_for", "duration": "24h"}, "auto_end_after": "30m",
			"customer_access_duration": "1h", "history_days": 30, "history_search_space": "all", "phone_default_region": "gb"}
		e.do("PUT", "/api/settings", "admin", put).want(200).into(&got)
		if got.SMSEnabled || got.InvitationMode != "external" || got.EndSessionAccess.Duration.String() != "24h" ||
			got.AutoEndAfter.String() != "30m" || got.PhoneDefaultRegion != "GB" || got.HistorySearchSpace != "all" {
			t.Fatalf("after PUT = %+v", got)
		}
		bad := func(field string, v any) {
			t.Helper()
			b := map[string]any{}
			for k, x := range put {
				b[k] = x
			}
			b[field] = v
			e.do("PUT", "/api/settings", "admin", b).wantField(field)
		}
		bad("invitation_mode", "carrier-pigeon")
		bad("history_days", 0)
		bad("history_search_space", "galaxy")
		bad("phone_default_region", "XX")
		bad("customer_access_duration", "soon")
		bad("auto_end_after", "-5m")
		e.do("PUT", "/api/settings", "admin", map[string]any{"sms_enabled": true, "invitation_mode": "builtin",
			"end_session_access": map[string]any{"mode": "limited_for"}, "auto_end_after": "0s", "customer_access_duration": "1h",
			"history_days": 30, "history_search_space": "all", "phone_default_region": "US"}).wantField("end_session_access.duration")
		e.do("PUT", "/api/settings", "admin", map[string]any{"sms_enabled": true}).wantField("history_days")
		var after rooms.Settings
		e.do("GET", "/api/settings", "admin", nil).want(200).into(&after)
		if after != got {
			t.Fatalf("refused PUTs changed settings: %+v", after)
		}
	})
}

func TestTeams(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var team rooms.Team
		e.do("POST", "/api/teams", "admin", map[string]string{"name": "Claims"}).want(201).into(&team)
		if team.Settings.CustomerAuthentication != "none" || team.Settings.Consent.Required || len(team.Settings.TaskTemplates) != 0 ||
			!strings.Contains(team.Settings.Templates.EmailBody, "{{link}}") || !strings.HasPrefix(team.ID, "t_") {
			t.Fatalf("new team = %+v", team)
		}
		team.Name = "Claims EU"
		team.Settings.CustomerAuthentication = "otp"
		team.Settings.Consent = rooms.ConsentSetting{Required: true, Text: "I agree to the recording."}
		team.Settings.TaskTemplates = []rooms.TaskTemplate{{Kind: "upload", Title: "Photo of the damage"}}
		team.Settings.Templates.SMSBody = "{{agent}} from ACME: {{link}}"
		var got rooms.Team
		e.do("PUT", "/api/teams/"+team.ID, "admin", team).want(200).into(&got)
		if got.Name != "Claims EU" || got.Settings.CustomerAuthentication != "otp" || got.Settings.TaskTemplates[0].Title != "Photo of the damage" {
			t.Fatalf("after PUT = %+v", got)
		}
		var teams struct{ Teams []rooms.Team }
		e.do("GET", "/api/teams", "admin", nil).want(200).into(&teams)
		if len(teams.Teams) != 3 {
			t.Fatalf("teams = %+v", teams)
		}
		e.do("GET", "/api/teams/t_nope", "admin", nil).wantError(404, "not_found")
		e.do("PUT", "/api/teams/t_nope", "admin", team).wantError(404, "not_found")
		e.do("POST", "/api/teams", "admin", map[string]string{"name": " "}).wantField("name")
		e.do("POST", "/api/teams", "admin", map[string]any{"name": "X", "settings": map[string]any{"customer_authentication": "retina"}}).
			wantField("settings.customer_authentication")
		team.Settings.Consent = rooms.ConsentSetting{Required: true}
		e.do("PUT", "/api/teams/"+team.ID, "admin", team).wantField("settings.consent.text")
		e.do("PUT", "/api/teams/"+team.ID, "admin", map[string]any{"name": "Only a name"}).wantField("settings")
		e.do("PUT", "/api/teams/"+team.ID, "admin", map[string]any{"name": "N", "settings": map[string]any{
			"task_templates": []any{}, "customer_authentication": "none", "consent": map[string]any{"required": false, "text": ""}}}).
			wantField("settings.templates")
		var unchanged rooms.Team
		e.do("GET", "/api/teams/"+team.ID, "admin", nil).want(200).into(&unchanged)
		if unchanged.Name != "Claims EU" || !unchanged.Settings.Consent.Required || unchanged.Settings.Consent.Text == "" {
			t.Fatalf("refused PUTs changed the team: %+v", unchanged)
		}
	})
}

func TestAgents(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		in := map[string]any{"email": "New@Cohub.test", "name": "Nia", "role": "supervisor", "team_id": e.support,
			"settings_team_ids": []string{e.sales}, "password": "long-enough-password"}
		var a rooms.Agent
		r := e.do("POST", "/api/agents", "admin", in).want(201)
		r.into(&a)
		if a.Email != "new@cohub.test" || a.Role != "supervisor" || a.TeamID != e.support || a.SettingsTeamIDs[0] != e.sales {
			t.Fatalf("created = %+v", a)
		}
		if strings.Contains(string(r.body), "password") {
			t.Fatalf("agent JSON carries a password field: %s", r.body)
		}
		if e.login("new@cohub.test", "long-enough-password") == "" {
			t.Fatal("new agent cannot log in")
		}
		e.do("POST", "/api/agents", "admin", in).wantError(409, "email_taken")
		short := map[string]any{"email": "x@cohub.test", "name": "X", "role": "agent", "team_id": e.sales, "settings_team_ids": []string{}, "password": "short"}
		e.do("POST", "/api/agents", "admin", short).wantField("password")
		short["password"], short["role"] = "long-enough-password", "overlord"
		e.do("POST", "/api/agents", "admin", short).wantField("role")
		short["role"], short["team_id"] = "agent", ""
		e.do("POST", "/api/agents", "admin", short).wantField("team_id")
		short["team_id"], short["settings_team_ids"] = e.sales, []string{"t_missing"}
		e.do("POST", "/api/agents", "admin", short).wantField("settings_team_ids[0]")

		put := map[string]any{"email": "nia@cohub.test", "name": "Nia B", "role": "agent", "team_id": e.sales, "settings_team_ids": []string{}, "disabled": false}
		e.do("PUT", "/api/agents/"+a.ID, "admin", put).want(200).into(&a)
		if a.Email != "nia@cohub.test" || a.Role != "agent" || a.TeamID != e.sales {
			t.Fatalf("updated = %+v", a)
		}
		if e.login("nia@cohub.test", "long-enough-password") == "" {
			t.Fatal("a PUT without password must keep the password")
		}
		put["email"] = "alex@cohub.test"
		e.do("PUT", "/api/agents/"+a.ID, "admin", put).wantError(409, "email_taken")
		e.do("PUT", "/api/agents/"+a.ID, "admin", map[string]any{"email": "nia@cohub.test"}).wantField("role")
		e.do("PUT", "/api/agents/a_missing", "admin", map[string]any{"email": "z@cohub.test", "name": "Z", "role": "agent",
			"team_id": e.sales, "settings_team_ids": []string{}, "disabled": false}).wantError(404, "not_found")
		var list struct{ Agents []rooms.Agent }
		e.do("GET", "/api/agents", "admin", nil).want(200).into(&list)
		if len(list.Agents) != 6 {
			t.Fatalf("agents = %d", len(list.Agents))
		}
	})
}

// Logins are revocable: a new password or disabling ends every token of
// the agent at once; a role change keeps them; "sign out everywhere"
// ends every login of the caller and nobody else's.
func TestAgentLoginsAreRevocable(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a := e.agents["blake"]
		put := func(password string, disabled bool, role string) *resp {
			body := map[string]any{"email": a.Email, "name": a.Name, "role": role, "team_id": a.TeamID,
				"settings_team_ids": []string{}, "disabled": disabled}
			if password != "" {
				body["password"] = password
			}
			return e.do("PUT", "/api/agents/"+a.ID, "admin", body)
		}
		second := e.login(a.Email, testPassword)
		put("", false, "supervisor").want(200)
		e.do("GET", "/api/me", "blake", nil).want(200) // a role change keeps the login

		put("a-brand-new-password", false, "agent").want(200)
		for _, tok := range []string{e.tokens["blake"], second} {
			e.do("GET", "/api/me", "Bearer "+tok, nil).wantError(401, "unauthenticated")
		}
		fresh := e.login(a.Email, "a-brand-new-password")
		e.do("GET", "/api/me", "Bearer "+fresh, nil).want(200)

		var got rooms.Agent
		put("", true, "agent").want(200).into(&got)
		if !got.Disabled {
			t.Fatalf("disabled agent = %+v", got)
		}
		e.do("GET", "/api/me", "Bearer "+fresh, nil).wantError(401, "unauthenticated")
		r := e.do("POST", "/api/login", "", map[string]string{"email": a.Email, "password": "a-brand-new-password"})
		r.wantError(403, "forbidden")
		if !strings.Contains(string(r.body), "disabled") {
			t.Fatalf("refusal does not say why: %s", r.body)
		}
		put("", false, "agent").want(200)
		e.do("GET", "/api/me", "Bearer "+e.login(a.Email, "a-brand-new-password"), nil).want(200)

		// Nobody locks themselves out.
		admin := e.agents["admin"]
		e.do("PUT", "/api/agents/"+admin.ID, "admin", map[string]any{"email": admin.Email, "name": admin.Name,
			"role": "admin", "team_id": "", "settings_team_ids": []string{}, "disabled": true}).wantError(409, "invalid_state")
		e.do("GET", "/api/me", "admin", nil).want(200)

		// Sign out everywhere.
		other := e.login("alex@cohub.test", testPassword)
		e.do("POST", "/api/logout?all=maybe", "alex", nil).wantField("all")
		e.do("POST", "/api/logout?all=1", "alex", nil).want(200)
		for _, tok := range []string{e.tokens["alex"], other} {
			e.do("GET", "/api/me", "Bearer "+tok, nil).wantError(401, "unauthenticated")
		}
		e.do("GET", "/api/me", "riley", nil).want(200)
	})
}
