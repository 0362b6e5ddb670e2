package api_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cohub/cohub/api"

	"github.com/cohub/cohub/rooms"
)

// wantMessage checks a validation_failed names a field with a message
// containing want.
func (r *resp) wantMessage(field, want string) *resp {
	r.t.Helper()
	r.wantField(field)
	var out struct {
		Error struct{ Fields map[string]string }
	}
	r.into(&out)
	if got := out.Error.Fields[field]; !strings.Contains(got, want) {
		r.t.Fatalf("%s: message %q, want it to say %q", field, got, want)
	}
	return r
}

// TestStrictKeys: a key given twice, or matching a field only when case
// is ignored, is refused by every body decoder, by JSON path, and
// changes nothing. encoding/json alone takes the last duplicate and
// matches keys case-insensitively.
func TestStrictKeys(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		post := func(body string) *resp { return e.do("POST", "/api/sessions", "alex", body) }
		const cust = `"customer":{"email":"a@example.com"}`
		post(`{"mode":"start","mode":"preplan",`+cust+`}`).wantMessage("mode", "appears twice")
		// Escapes are decoded before keys are compared.
		post(`{"mode":"start","mo\u0064e":"preplan",`+cust+`}`).wantMessage("mode", "appears twice")
		post(`{"MODE":"start",`+cust+`}`).wantMessage("MODE", `unknown field (did you mean "mode"?)`)
		post(`{"mode":"start","Mode":"preplan",`+cust+`}`).wantMessage("Mode", `did you mean "mode"?`)
		post(`{"mode":"start","Customer":{"email":"a@example.com"}}`).wantMessage("Customer", `did you mean "customer"?`)
		post(`{"mode":"start","customer":{"EMAIL":"a@example.com"}}`).wantMessage("customer.EMAIL", `did you mean "email"?`)
		post(`{"mode":"start","customer":{"email":"a@example.com","email":"b@example.com"}}`).
			wantMessage("customer.email", "appears twice")
		// U+212A KELVIN SIGN folds to k: encoding/json matches it to "kind".
		post(`{"mode":"start",`+cust+`,"tasks":[{"kind":"sign","title":"a"},{"\u212Aind":"sign","title":"b"}]}`).
			wantMessage("tasks[1].\u212Aind", `did you mean "kind"?`)
		// Every bad key is named, not only the first.
		r := post(`{"mode":"start","Mode":"x","customer":{"EMAIL":"a@example.com","Phone":"1"},"color":"red"}`)
		r.wantMessage("Mode", "did you mean").wantMessage("customer.EMAIL", "did you mean").
			wantMessage("customer.Phone", "did you mean").wantMessage("color", "unknown field")

		s := e.preplan("alex", "kept@example.com")
		// Action POSTs (decodeOptional) take no fields at all.
		e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", `{"x":1,"x":2}`).wantMessage("x", "unknown field")
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", `{"customer":{"email":"n@example.com","Email":"m@example.com"}}`).
			wantMessage("customer.Email", `did you mean "email"?`)
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", `{"kind":"sign","title":"a","TITLE":"b"}`).
			wantMessage("TITLE", `did you mean "title"?`)
		e.do("POST", "/api/login", "", `{"email":"alex@cohub.test","Password":"`+testPassword+`"}`).
			wantMessage("Password", `did you mean "password"?`)

		var h rooms.History
		e.do("GET", "/api/sessions?scope=all", "admin", nil).want(200).into(&h)
		if len(h.Sessions) != 1 || h.Sessions[0].State != rooms.StatePlanned || len(h.Sessions[0].Tasks) != 0 ||
			h.Sessions[0].Customer.Email != "kept@example.com" {
			t.Fatalf("refused bodies changed sessions: %+v", h.Sessions)
		}
	})
}

// TestStrictKeysOnPUT: the whole-object PUTs refuse duplicates and
// case variants too, at any depth, and keep the old object.
func TestStrictKeysOnPUT(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		set := `"invitation_mode":"builtin","end_session_access":{"mode":"limited_for","duration":"72h"},` +
			`"auto_end_after":"0s","customer_access_duration":"72h","history_search_space":"team","phone_default_region":"US"`
		e.do("PUT", "/api/settings", "admin", `{"sms_enabled":false,`+set+`,"history_days":5,"history_days":90}`).
			wantMessage("history_days", "appears twice")
		e.do("PUT", "/api/settings", "admin", `{"sms_enabled":true,"SMS_ENABLED":false,`+set+`,"history_days":5}`).
			wantMessage("SMS_ENABLED", `did you mean "sms_enabled"?`)
		e.do("PUT", "/api/settings", "admin", `{"sms_enabled":true,`+strings.Replace(set, `"duration"`, `"Duration"`, 1)+`,"history_days":5}`).
			wantMessage("end_session_access.Duration", `did you mean "duration"?`)
		var got rooms.Settings
		e.do("GET", "/api/settings", "admin", nil).want(200).into(&got)
		if !reflect.DeepEqual(got, rooms.DefaultSettings()) {
			t.Fatalf("refused PUTs changed settings: %+v", got)
		}

		team := `{"name":"Sales","settings":{"task_templates":[],"customer_authentication":"none",` +
			`"consent":{"required":false,"text":"","Required":true},` +
			`"templates":{"email_subject":"s","email_body":"b","sms_body":"m"}}}`
		e.do("PUT", "/api/teams/"+e.sales, "admin", team).wantMessage("settings.consent.Required", `did you mean "required"?`)
		e.do("PUT", "/api/teams/"+e.sales, "admin", strings.Replace(team, `"Required":true`, `"text":"again"`, 1)).
			wantMessage("settings.consent.text", "appears twice")
		var sales rooms.Team
		e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&sales)
		if sales.Settings.Consent.Required || sales.Settings.Templates.EmailSubject == "s" {
			t.Fatalf("refused PUTs changed the team: %+v", sales)
		}

		agent := `{"email":"riley@cohub.test","name":"Riley","role":"agent","team_id":"` + e.support + `","settings_team_ids":[]`
		e.do("PUT", "/api/agents/"+e.agents["riley"].ID, "admin", agent+`,"Role":"admin"}`).wantMessage("Role", `did you mean "role"?`)
		e.do("PUT", "/api/agents/"+e.agents["riley"].ID, "admin", agent+`,"role":"admin"}`).wantMessage("role", "appears twice")
		var list struct{ Agents []rooms.Agent }
		e.do("GET", "/api/agents", "admin", nil).want(200).into(&list)
		for _, a := range list.Agents {
			if a.ID == e.agents["riley"].ID && a.Role != rooms.RoleAgent {
				t.Fatalf("refused PUTs changed riley: %+v", a)
			}
		}
	})
}

// TestRequireAllRefusesDuplicates: the whole-object check reads the body
// itself, so it must not let a duplicate through on its own either.
func TestRequireAllRefusesDuplicates(t *testing.T) {
	body := []byte(`{"name":"A","name":"B","settings":{}}`)
	err := api.RequireAll(body, rooms.Team{}, "id", "settings")
	ve, ok := err.(*rooms.ValidationError)
	if !ok || !strings.Contains(ve.Fields["name"], "appears twice") {
		t.Fatalf("requireAll = %v, want name named as appearing twice", err)
	}
}
