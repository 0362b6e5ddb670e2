package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

// badNames hold what a name must never carry: line breaks, control
// characters and marks that turn the text's direction.
var badNames = map[string]string{
	"line feed":              "Jane\nDoe",
	"carriage return":        "Jane\rBcc: eve@example.com",
	"tab":                    "Jane\tDoe",
	"NUL":                    "Jane\x00Doe",
	"DEL":                    "Jane\x7fDoe",
	"next line (C1)":         "Jane\u0085Doe",
	"line separator":         "Jane\u2028Doe",
	"paragraph separator":    "Jane\u2029Doe",
	"right-to-left override": "Jane\u202Egpj.exe",
	"right-to-left isolate":  "Jane\u2067Doe",
	"right-to-left mark":     "Jane\u200FDoe",
}

// TestNamesRefuseControlCharacters: customer, agent and team names
// refuse each bad character, naming the field, and change nothing.
func TestNamesRefuseControlCharacters(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.preplan("alex", "kept@example.com")
		alex := e.agents["alex"]
		for what, name := range badNames {
			t.Log(what) // a failure below is about the last one logged
			e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
				"customer": map[string]string{"name": name, "email": "new@example.com"}}).
				wantMessage("customer.name", "line breaks")
			e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
				"customer": map[string]string{"name": name, "email": "other@example.com"}}).
				wantMessage("customer.name", "line breaks")
			e.do("POST", "/api/agents", "admin", map[string]any{"email": "n@cohub.test", "name": name,
				"role": "agent", "team_id": e.sales, "settings_team_ids": []string{}, "password": "long-enough-password"}).
				wantMessage("name", "line breaks")
			e.do("PUT", "/api/agents/"+alex.ID, "admin", map[string]any{"email": alex.Email, "name": name,
				"role": "agent", "team_id": e.sales, "settings_team_ids": []string{}, "disabled": false}).wantMessage("name", "line breaks")
			e.do("POST", "/api/teams", "admin", map[string]string{"name": name}).wantMessage("name", "line breaks")
			var team rooms.Team
			e.do("GET", "/api/teams/"+e.support, "admin", nil).want(200).into(&team)
			team.Name = name
			e.do("PUT", "/api/teams/"+e.support, "admin", team).wantMessage("name", "line breaks")
		}

		var h rooms.History
		e.do("GET", "/api/sessions?scope=all", "admin", nil).want(200).into(&h)
		if len(h.Sessions) != 1 || h.Sessions[0].Customer.Email != "kept@example.com" {
			t.Fatalf("refused names changed sessions: %+v", h.Sessions)
		}
		var agents struct{ Agents []rooms.Agent }
		e.do("GET", "/api/agents", "admin", nil).want(200).into(&agents)
		var teams struct{ Teams []rooms.Team }
		e.do("GET", "/api/teams", "admin", nil).want(200).into(&teams)
		if len(agents.Agents) != 5 || len(teams.Teams) != 2 {
			t.Fatalf("refused names added accounts: %d agents, %d teams", len(agents.Agents), len(teams.Teams))
		}
		for _, a := range agents.Agents {
			if a.ID == alex.ID && a.Name != alex.Name {
				t.Fatalf("refused name changed the agent: %q", a.Name)
			}
		}
		for _, tm := range teams.Teams {
			if tm.Name != "Sales" && tm.Name != "Support" {
				t.Fatalf("refused name changed a team: %q", tm.Name)
			}
		}

		// Joiners that scripts need are not direction marks.
		e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "preplan",
			"customer": map[string]string{"name": "Mehr\u200Cdad 👩\u200D💻", "email": "ok@example.com"}}).want(201)
	})
}

// TestInvitationsCarryNamesOnOneLine: names stored before they were
// checked reach invitations flattened, subject and body alike.
func TestInvitationsCarryNamesOnOneLine(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		alex := *e.agents["alex"]
		alex.Name = "Alex\r\nBcc: eve@example.com\u202E"
		e.must(e.store.UpdateAgent(ctx, &alex))
		s := e.preplan("alex", "old@example.com")
		stored, err := e.store.Session(ctx, s.ID)
		e.must(err)
		stored.Customer.Name = "Cara\u2028\x1b[31mCustomer"
		_, err = e.store.Commit(ctx, stored, nil, rooms.CommitOptions{})
		e.must(err)

		e.do("POST", "/api/sessions/"+s.ID+"/invite", "alex", nil).want(200)
		msgs, err := e.outbox.List(ctx, 10)
		e.must(err)
		m := msgs[0]
		if m.To != "old@example.com" {
			t.Fatalf("newest message went to %s", m.To)
		}
		if strings.ContainsAny(m.Subject, "\r\n\u2028\x1b\u202E") {
			t.Errorf("subject carries a raw control character: %q", m.Subject)
		}
		if !strings.HasPrefix(m.Subject, "Alex Bcc: eve@example.com invited") {
			t.Errorf("subject = %q", m.Subject)
		}
		if strings.ContainsAny(m.Body, "\r\u2028\x1b\u202E") || !strings.Contains(m.Body, "Hello Cara [31mCustomer,\n") ||
			strings.Count(m.Body, "\n") != strings.Count(notify.DefaultEmailBody, "\n") {
			t.Errorf("body carries a raw line break or control character: %q", m.Body)
		}
	})
}
