package api_test

import (
	"context"
	"testing"

	"github.com/cohub/cohub/rooms"
)

// History rows count the customer's messages the session's agent has
// not read: from the agent's read horizon, not a supervisor's; a row
// read to the end carries no count.
func TestHistoryUnreadCount(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := e.startSession("alex", "ann@example.com")
		post := func(role, id, text string) int64 {
			ev, err := e.svc.Sessions.PostMessage(ctx, s.ID, rooms.Message{From: rooms.Actor{Role: role, ID: id}, Text: text, AgentsHere: true})
			e.must(err)
			return ev.Seq
		}
		unread := func(who string) int {
			t.Helper()
			var h rooms.History
			e.do("GET", "/api/sessions?scope=team", who, nil).want(200).into(&h)
			for _, row := range h.Sessions {
				if row.ID == s.ID {
					return row.Unread
				}
			}
			t.Fatalf("%s's history has no row for %s", who, s.ID)
			return 0
		}
		first := post("customer", "", "one")
		post("agent", e.agents["alex"].ID, "a reply")
		post("customer", "", "two")
		last := post("customer", "", "three")
		if n := unread("alex"); n != 3 {
			t.Fatalf("unread before reading = %d, want 3", n)
		}
		mark := func(who string, seq int64) {
			_, _, err := e.svc.Sessions.MarkRead(ctx, s.ID, rooms.Actor{Role: "agent", ID: e.agents[who].ID}, seq)
			e.must(err)
		}
		mark("sam", last) // a supervisor's reading is theirs
		if n := unread("sam"); n != 3 {
			t.Fatalf("unread after a supervisor read = %d, want 3 (the agent's)", n)
		}
		mark("alex", first)
		if n := unread("alex"); n != 2 {
			t.Fatalf("unread after reading the first = %d, want 2", n)
		}
		mark("alex", last)
		if n := unread("alex"); n != 0 {
			t.Fatalf("unread after reading all = %d, want 0", n)
		}
		var raw map[string]any
		e.do("GET", "/api/sessions", "alex", nil).want(200).into(&raw)
		if _, has := raw["sessions"].([]any)[0].(map[string]any)["unread"]; has {
			t.Fatalf("a row read to the end carries an unread count: %v", raw["sessions"])
		}
	})
}
