package api_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/cohub/cohub/rooms"
)

// followupBody is the org settings with follow-ups edited by fn.
func followupBody(e *env, fn func(f map[string]any)) map[string]any {
	var set map[string]any
	e.do("GET", "/api/settings", "admin", nil).want(200).into(&set)
	f := map[string]any{
		"reminders":      map[string]any{"enabled": true, "first_after": "1h", "every": "24h", "max": 3},
		"window":         map[string]any{"days": []string{"mon", "tue"}, "from": "09:00", "to": "18:00", "time_zone": "Europe/Paris"},
		"away_notice":    map[string]any{"enabled": true, "after": "30m"},
		"expiry_warning": map[string]any{"enabled": false, "before": "24h"},
	}
	fn(f)
	set["followups"] = f
	return set
}

// Bad follow-up settings answer 400 naming the field and change nothing;
// good ones are kept, for the org and for a team.
func TestFollowupSettingsValidation(t *testing.T) {
	e := newEnv(t, "memory")
	for field, edit := range map[string]func(f map[string]any){
		"followups.window.days":             func(f map[string]any) { f["window"].(map[string]any)["days"] = []string{} },
		"followups.window.to":               func(f map[string]any) { f["window"].(map[string]any)["to"] = "09:00" },
		"followups.window.from":             func(f map[string]any) { f["window"].(map[string]any)["from"] = "9am" },
		"followups.window.time_zone":        func(f map[string]any) { f["window"].(map[string]any)["time_zone"] = "Mars/Olympus" },
		"followups.reminders.every":         func(f map[string]any) { f["reminders"].(map[string]any)["every"] = "1m" },
		"followups.reminders.max":           func(f map[string]any) { f["reminders"].(map[string]any)["max"] = 0 },
		"followups.away_notice.after":       func(f map[string]any) { f["away_notice"].(map[string]any)["after"] = "4m" },
		"followups.reminders.first_after":   func(f map[string]any) { f["reminders"].(map[string]any)["first_after"] = "0s" },
		"followups.expiry_warning.before":   func(f map[string]any) { f["expiry_warning"] = map[string]any{"enabled": true, "before": "1s"} },
		"followups.window.days[duplicated]": func(f map[string]any) { f["window"].(map[string]any)["days"] = []string{"mon", "mon"} },
	} {
		want, _, _ := strings.Cut(field, "[")
		e.do("PUT", "/api/settings", "admin", followupBody(e, edit)).wantField(want)
	}
	var got rooms.Settings
	e.do("GET", "/api/settings", "admin", nil).want(200).into(&got)
	if !reflect.DeepEqual(got, rooms.DefaultSettings()) {
		t.Fatalf("refused follow-ups changed settings: %+v", got.Followups)
	}
	e.do("PUT", "/api/settings", "admin", followupBody(e, func(map[string]any) {})).want(200)
	e.do("GET", "/api/settings", "admin", nil).want(200).into(&got)
	if r := got.Followups.Reminders; !r.Enabled || r.Max != 3 || got.Followups.Window.TimeZone != "Europe/Paris" {
		t.Fatalf("kept follow-ups = %+v", got.Followups)
	}
	var team map[string]any
	e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200).into(&team)
	bad := followupBody(e, func(f map[string]any) { f["reminders"].(map[string]any)["first_after"] = "2m" })
	team["settings"].(map[string]any)["followups"] = bad["followups"]
	e.do("PUT", "/api/teams/"+e.sales, "admin", team).wantField("settings.followups.reminders.first_after")
	team["settings"].(map[string]any)["followups"] = followupBody(e, func(map[string]any) {})["followups"]
	var saved rooms.Team
	e.do("PUT", "/api/teams/"+e.sales, "admin", team).want(200).into(&saved)
	if saved.Settings.Followups == nil || saved.Settings.Followups.AwayNotice.After.Std().Minutes() != 30 {
		t.Fatalf("team follow-ups = %+v", saved.Settings.Followups)
	}
}

// The agent pauses and resumes a session's reminders; others may not.
func TestPauseReminders(t *testing.T) {
	e := newEnv(t, "memory")
	e.do("PUT", "/api/settings", "admin", followupBody(e, func(map[string]any) {})).want(200)
	sess := e.startSession("alex", "pause@example.com")
	path := "/api/sessions/" + sess.ID + "/reminders/"
	e.do("POST", path+"pause", "riley", nil).wantError(404, "not_found")
	got := e.do("POST", path+"pause", "alex", nil).want(200).session()
	if got.Followups == nil || got.Followups.Reminders.Status != rooms.RemindersPaused {
		t.Fatalf("after pause: %+v", got.Followups)
	}
	e.do("POST", path+"pause", "alex", nil).wantError(409, "invalid_state")
	got = e.do("POST", path+"resume", "alex", nil).want(200).session()
	if got.Followups.Reminders.Status == rooms.RemindersPaused {
		t.Fatalf("after resume: %+v", got.Followups)
	}
	var page struct{ Events []rooms.Event }
	e.do("GET", "/api/sessions/"+sess.ID+"/events", "alex", nil).want(200).into(&page)
	evs := page.Events
	types := []string{}
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	if !strings.Contains(strings.Join(types, " "), "reminders.paused reminders.resumed") {
		t.Fatalf("events = %v", types)
	}
}

// The stop link: GET asks and changes nothing (a mail scanner's
// prefetch), POST stops and is logged; a forged token is refused.
func TestStopRemindersLink(t *testing.T) {
	e := newEnv(t, "memory")
	e.do("PUT", "/api/settings", "admin", followupBody(e, func(map[string]any) {})).want(200)
	sess := e.startSession("alex", "stop@example.com")
	stored, err := e.store.Session(context.Background(), sess.ID)
	e.must(err)
	u := e.svc.Followups.StopURL(stored)
	path := u[strings.Index(u, "/stop/"):]
	for range 2 {
		r := e.do("GET", path, "", nil).want(200)
		if !strings.Contains(string(r.body), `data-testid="stop-confirm"`) || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET: %s", r.body)
		}
	}
	stored, err = e.store.Session(context.Background(), sess.ID)
	e.must(err)
	if stored.Internal.Followups.StoppedAt != nil {
		t.Fatal("a GET of the stop link stopped reminders")
	}
	if r := e.do("POST", path[:len(path)-3]+"abc", "", nil); r.status < 400 || r.status >= 500 {
		t.Fatalf("a forged stop link: %d", r.status)
	}
	r := e.do("POST", path, "", nil).want(200)
	if strings.Contains(string(r.body), "stop-confirm") {
		t.Fatalf("POST: %s", r.body)
	}
	got := e.do("GET", "/api/sessions/"+sess.ID, "alex", nil).want(200).session()
	if got.Followups.Reminders.Status != rooms.RemindersStopped {
		t.Fatalf("after the opt-out: %+v", got.Followups)
	}
	var page struct{ Events []rooms.Event }
	e.do("GET", "/api/sessions/"+sess.ID+"/events", "alex", nil).want(200).into(&page)
	evs := page.Events
	if evs[len(evs)-1].Type != rooms.EventRemindersStopped {
		t.Fatalf("last event = %+v", evs[len(evs)-1])
	}
}

// The customer's page reports its time zone; a zone that is not one is
// refused by name.
func TestCustomerTimeZone(t *testing.T) {
	e := newEnv(t, "memory")
	sess := e.startSession("alex", "tz@example.com")
	tok := e.linkSentTo("tz@example.com")
	e.do("POST", "/api/customer/time-zone", "Link "+tok, map[string]string{"time_zone": "Mars/Olympus"}).wantField("time_zone")
	e.do("POST", "/api/customer/time-zone", "Link "+tok, map[string]string{"time_zone": "Asia/Tokyo"}).want(204)
	e.do("POST", "/api/customer/time-zone", "Link bad.1.2.sig", map[string]string{"time_zone": "Asia/Tokyo"}).wantError(401, "unauthenticated")
	got := e.do("GET", "/api/sessions/"+sess.ID, "alex", nil).want(200).session()
	if got.Followups.TimeZone != "Asia/Tokyo" || got.LinkExpiresAt == nil {
		t.Fatalf("session = %+v, link expires %v", got.Followups, got.LinkExpiresAt)
	}
}
