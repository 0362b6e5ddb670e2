package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

func historyIDs(e *env, who, query string) ([]string, string) {
	e.t.Helper()
	var h rooms.History
	e.do("GET", "/api/sessions?"+query, who, nil).want(200).into(&h)
	ids := make([]string, len(h.Sessions))
	for i, s := range h.Sessions {
		ids[i] = s.ID
	}
	return ids, h.NextCursor
}

func TestHistoryScopesAndFilters(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a1 := e.startSession("alex", "ann@example.com")
		e.clock.Advance(time.Second)
		a2 := e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
			"customer": map[string]string{"name": "Bob Builder", "phone": "+1 415 555 0199"}}).want(201).session()
		e.clock.Advance(time.Second)
		b1 := e.startSession("blake", "carol@example.com")
		e.clock.Advance(time.Second)
		r1 := e.startSession("riley", "dan@example.com")
		e.clock.Advance(time.Second)

		// Completed: a1 gets a task that the customer completes.
		var task rooms.Task
		e.do("POST", "/api/sessions/"+a1.ID+"/tasks", "alex", map[string]string{"kind": "custom", "title": "Call back"}).want(201).into(&task)
		_, err := e.svc.Gates.CompleteTask(context.Background(), a1.ID, task.ID, nil)
		e.must(err)

		check := func(who, query string, want ...*rooms.Session) {
			t.Helper()
			got, _ := historyIDs(e, who, query)
			var w []string
			for _, s := range want {
				w = append(w, s.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Fatalf("%s ?%s = %v, want %v", who, query, got, w)
			}
		}
		check("alex", "", a1, a2) // mine by default, newest activity first (a1 was just updated)
		check("alex", "scope=team", a1, b1, a2)
		check("sam", "scope=team", a1, b1, a2)
		check("riley", "scope=team", r1)
		check("admin", "scope=all", a1, r1, b1, a2)
		check("admin", "scope=team") // an admin without a team has no team history
		e.do("GET", "/api/sessions?scope=all", "alex", nil).wantError(403, "forbidden")
		check("alex", "scope=team&status=completed", a1)
		check("alex", "scope=team&status=incomplete", b1, a2)
		check("alex", "scope=team&updated=true", a1)
		check("alex", "scope=team&q=BUILDER", a2)
		check("alex", "scope=team&q="+url.QueryEscape("(415) 555-0199"), a2)
		check("alex", "scope=team&q=carol@", b1)
		check("alex", "scope=team&q=nobody")

		for _, bad := range []string{"scope=galaxy", "status=maybe", "limit=0", "limit=201", "limit=x", "cursor=!!", "updated=yes"} {
			e.do("GET", "/api/sessions?"+bad, "alex", nil).wantError(400, "validation_failed")
		}

		// The org can widen or narrow what agents may ask for.
		set := rooms.DefaultSettings()
		set.HistorySearchSpace = rooms.ScopeAll
		e.do("PUT", "/api/settings", "admin", set).want(200)
		check("alex", "scope=all", a1, r1, b1, a2)
		e.do("GET", "/api/sessions/"+r1.ID, "alex", nil).want(200) // visible, not actionable
		e.do("POST", "/api/sessions/"+r1.ID+"/end", "alex", nil).wantError(403, "forbidden")
		// Listed is not readable: the transcript follows the room join.
		e.do("GET", "/api/sessions/"+r1.ID+"/events", "alex", nil).wantError(403, "forbidden")
		e.do("GET", "/api/sessions/"+b1.ID+"/events", "alex", nil).wantError(403, "forbidden")
		e.do("GET", "/api/sessions/"+b1.ID+"/events", "sam", nil).want(200)
		set.HistorySearchSpace = rooms.ScopeMine
		e.do("PUT", "/api/settings", "admin", set).want(200)
		e.do("GET", "/api/sessions?scope=team", "alex", nil).wantError(403, "forbidden")
		e.do("GET", "/api/sessions/"+b1.ID, "alex", nil).wantError(404, "not_found")
		e.do("GET", "/api/sessions/"+b1.ID, "sam", nil).want(200) // a supervisor still sees what they act on
	})
}

func TestHistoryPagingAndAge(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var want []string
		for i := range 7 {
			s := e.startSession("alex", fmt.Sprintf("p%d@example.com", i))
			want = append([]string{s.ID}, want...)
			e.clock.Advance(time.Second)
		}
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			ids, next := historyIDs(e, "alex", "limit=3&cursor="+cursor)
			got = append(got, ids...)
			if next == "" || pages > 5 {
				break
			}
			cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("paged = %v, want %v", got, want)
		}
		// history_days bounds history by last activity.
		e.clock.Advance(91 * 24 * time.Hour)
		fresh := e.startSession("alex", "fresh@example.com")
		ids, _ := historyIDs(e, "alex", "")
		if fmt.Sprint(ids) != fmt.Sprint([]string{fresh.ID}) {
			t.Fatalf("after 91 days: %v", ids)
		}
	})
}

func TestAutoEnd(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		set := rooms.DefaultSettings()
		set.AutoEndAfter = rooms.Duration(time.Hour)
		e.do("PUT", "/api/settings", "admin", set).want(200)
		idle := e.startSession("alex", "idle@example.com")
		busy := e.startSession("alex", "busy@example.com")
		e.clock.Advance(50 * time.Minute)
		e.do("POST", "/api/sessions/"+busy.ID+"/link", "alex", nil).want(200) // agent activity
		e.clock.Advance(11 * time.Minute)
		n, err := e.svc.Sessions.EndIdle(context.Background())
		e.must(err)
		if n != 1 {
			t.Fatalf("ended %d sessions, want 1", n)
		}
		got := e.do("GET", "/api/sessions/"+idle.ID, "alex", nil).want(200).session()
		if got.State != rooms.StateEnded {
			t.Fatalf("idle session is %s", got.State)
		}
		if e.do("GET", "/api/sessions/"+busy.ID, "alex", nil).want(200).session().State != rooms.StateActive {
			t.Fatal("a session with recent agent activity was ended")
		}
		var evs struct{ Events []rooms.Event }
		e.do("GET", "/api/sessions/"+idle.ID+"/events", "alex", nil).want(200).into(&evs)
		if len(evs.Events) != 1 || evs.Events[0].Type != rooms.EventSessionEnded || evs.Events[0].From.Role != "system" {
			t.Fatalf("auto-end events = %+v", evs.Events)
		}
	})
}

// A number typed as people write it in the org's region ("07700 900123"
// in the UK) finds the session whose customer's number is stored in
// E.164 (+447700900123); another number does not.
func TestHistoryFindsANumberAsTyped(t *testing.T) {
	e := newEnv(t, "memory")
	set := rooms.DefaultSettings()
	set.PhoneDefaultRegion = "GB"
	set.SMSEnabled = true
	e.do("PUT", "/api/settings", "admin", set).want(200)
	s := e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
		"customer": map[string]string{"name": "Uma UK", "phone": "+44 7700 900123"}}).want(201).session()
	// Stored in E.164, shown as people write it.
	if s.Customer.Phone != "+447700900123" || s.Customer.PhoneDisplay != "+44 7700 900123" {
		t.Fatalf("stored as %q, shown as %q", s.Customer.Phone, s.Customer.PhoneDisplay)
	}
	for q, want := range map[string]int{"07700 900123": 1, "07700 900124": 0} {
		got, _ := historyIDs(e, "alex", "q="+url.QueryEscape(q))
		if len(got) != want {
			t.Fatalf("?q=%s found %v, want %d", q, got, want)
		}
	}
}
