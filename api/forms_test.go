package api_test

import (
	"testing"

	"github.com/cohub/cohub/rooms"
)

// A team's form template may not carry a pattern with nested
// repetition: the customer's page runs it as a JavaScript RegExp, where
// (a+)+$ backtracks exponentially. The refusal names the field.
func TestTemplatePatternRefusesNestedRepetition(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		put := func(pattern string) *resp {
			ts := rooms.DefaultTeamSettings()
			ts.TaskTemplates = []rooms.TaskTemplate{{Kind: "form", Title: "Your account", TaskContent: rooms.TaskContent{
				Fields: []rooms.FormField{{Name: "iban", Label: "IBAN", Type: "text", Pattern: pattern}},
			}}}
			return e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts})
		}
		put(`(a+)+$`).wantField("settings.task_templates[0].fields[0].pattern")
		put(`(a|aa)+`).wantField("settings.task_templates[0].fields[0].pattern")
		put(`[A-Z]{2}[0-9]{2} ?[0-9]{4}( ?[0-9]{4}){2,4}`).want(200)
	})
}
