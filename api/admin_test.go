package api_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

func TestSettings(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var got rooms.Settings
		e.do("GET", "/api/settings", "admin", nil).want(200).into(&got)
		if !reflect.DeepEqual(got, rooms.DefaultSettings()) {
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
		if !reflect.DeepEqual(after, got) {
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

// orgSettings is a whole, valid org settings body for PUT.
func orgSettings() map[string]any {
	return map[string]any{"sms_enabled": true, "invitation_mode": "builtin",
		"end_session_access": map[string]any{"mode": "limited_for", "duration": "72h"}, "auto_end_after": "0s",
		"customer_access_duration": "72h", "history_days": 90, "history_search_space": "team", "phone_default_region": "US"}
}

// TestDurationBounds: access durations run from one minute to one year;
// auto-end is off (0s) or within the same bounds. Refusals change nothing.
func TestDurationBounds(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		put := func(field string, v any) *resp {
			b := orgSettings()
			b[field] = v
			return e.do("PUT", "/api/settings", "admin", b)
		}
		for _, d := range []string{"59s", "-1h", "8760h1s", "100000h"} {
			t.Log(d) // a failure below is about the last one logged
			put("customer_access_duration", d).wantMessage("customer_access_duration", `1 year ("8760h")`)
			put("auto_end_after", d).wantMessage("auto_end_after", `0s (off) or between 1 minute`)
			for _, mode := range []string{"full_for", "limited_for"} {
				put("end_session_access", map[string]any{"mode": mode, "duration": d}).
					wantMessage("end_session_access.duration", `1 year ("8760h")`)
			}
			e.do("POST", "/api/teams", "admin", map[string]any{"name": "Claims", "settings": map[string]any{
				"customer_access_duration": d}}).wantMessage("settings.customer_access_duration", `1 year ("8760h")`)
			e.do("POST", "/api/teams", "admin", map[string]any{"name": "Claims", "settings": map[string]any{
				"end_session_access": map[string]any{"mode": "full_for", "duration": d}}}).
				wantMessage("settings.end_session_access.duration", `1 year ("8760h")`)
		}
		var got rooms.Settings
		e.do("GET", "/api/settings", "admin", nil).want(200).into(&got)
		var teams struct{ Teams []rooms.Team }
		e.do("GET", "/api/teams", "admin", nil).want(200).into(&teams)
		if !reflect.DeepEqual(got, rooms.DefaultSettings()) || len(teams.Teams) != 2 {
			t.Fatalf("refused durations changed something: %+v, %d teams", got, len(teams.Teams))
		}

		// The bounds themselves are fine.
		for _, d := range []string{"1m", "8760h"} {
			put("customer_access_duration", d).want(200)
			put("auto_end_after", d).want(200)
			put("end_session_access", map[string]any{"mode": "limited_for", "duration": d}).want(200)
		}
		put("auto_end_after", "0s").want(200)
		var sales rooms.Team
		e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&sales)
		year, minute := rooms.Duration(8760*time.Hour), rooms.Duration(time.Minute)
		sales.Settings.CustomerAccessDuration = &year
		sales.Settings.EndSessionAccess = &rooms.EndAccess{Mode: rooms.AccessFullFor, Duration: minute}
		e.do("PUT", "/api/teams/"+e.sales, "admin", sales).want(200)
		tooLong := rooms.Duration(8761 * time.Hour)
		sales.Settings.CustomerAccessDuration = &tooLong
		e.do("PUT", "/api/teams/"+e.sales, "admin", sales).wantField("settings.customer_access_duration")
	})
}

// TestEndAccessPUTLeavesOutIgnoredDuration: duration is ignored for none
// and full, so a whole-object PUT need not carry it; full_for and
// limited_for still need it.
func TestEndAccessPUTLeavesOutIgnoredDuration(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		for _, mode := range []string{"none", "full"} {
			b := orgSettings()
			b["end_session_access"] = map[string]any{"mode": mode}
			var got rooms.Settings
			e.do("PUT", "/api/settings", "admin", b).want(200).into(&got)
			if got.EndSessionAccess != (rooms.EndAccess{Mode: mode}) {
				t.Fatalf("%s: end access = %+v", mode, got.EndSessionAccess)
			}
		}
		for _, mode := range []string{"full_for", "limited_for"} {
			b := orgSettings()
			b["end_session_access"] = map[string]any{"mode": mode}
			e.do("PUT", "/api/settings", "admin", b).wantMessage("end_session_access.duration", "is required")
		}
		var got rooms.Settings
		e.do("GET", "/api/settings", "admin", nil).want(200).into(&got)
		if got.EndSessionAccess.Mode != "full" {
			t.Fatalf("refused PUTs changed the end access: %+v", got.EndSessionAccess)
		}
	})
}

// TestTeamNamesUnique: no two teams share a name, ignoring case and
// surrounding spaces; a team may keep or recase its own.
func TestTeamNamesUnique(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		for _, name := range []string{"Sales", "sales", "  SALES "} {
			e.do("POST", "/api/teams", "admin", map[string]string{"name": name}).
				wantMessage("name", `another team is called "Sales"`)
		}
		// The clash is named beside the other bad fields.
		e.do("POST", "/api/teams", "admin", map[string]any{"name": "sales", "settings": map[string]any{"customer_authentication": "retina"}}).
			wantMessage("name", "another team").wantField("settings.customer_authentication")
		var support rooms.Team
		e.do("GET", "/api/teams/"+e.support, "admin", nil).want(200).into(&support)
		support.Name = "sALES"
		e.do("PUT", "/api/teams/"+e.support, "admin", support).wantMessage("name", `another team is called "Sales"`)

		var teams struct{ Teams []rooms.Team }
		e.do("GET", "/api/teams", "admin", nil).want(200).into(&teams)
		if len(teams.Teams) != 2 {
			t.Fatalf("teams = %+v", teams.Teams)
		}
		for _, tm := range teams.Teams {
			if tm.ID == e.support && tm.Name != "Support" {
				t.Fatalf("refused PUT renamed support to %q", tm.Name)
			}
		}

		var sales rooms.Team
		e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&sales)
		sales.Name = " SALES "
		var got rooms.Team
		e.do("PUT", "/api/teams/"+e.sales, "admin", sales).want(200).into(&got)
		if got.Name != "SALES" {
			t.Fatalf("recased own name = %q", got.Name)
		}
	})
}
