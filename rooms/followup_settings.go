package rooms

import (
	"fmt"
	"slices"
	"strings"
	"time"
	// The send window's time zones must load on hosts without a zone
	// database (slim containers).
	_ "time/tzdata"
)

// FollowupSettings say what brings a customer back and when: reminders
// while they have tasks to do, a notice of a new message while they are
// away, a warning before their link expires. All go only inside Window.
type FollowupSettings struct {
	Reminders     ReminderSettings      `json:"reminders"`
	Window        SendWindow            `json:"window"`
	AwayNotice    AwayNoticeSettings    `json:"away_notice"`
	ExpiryWarning ExpiryWarningSettings `json:"expiry_warning"`
}

// ReminderSettings: the first reminder FirstAfter the latest invitation,
// then one every Every, at most Max for one contact.
type ReminderSettings struct {
	Enabled    bool     `json:"enabled"`
	FirstAfter Duration `json:"first_after"`
	Every      Duration `json:"every"`
	Max        int      `json:"max"`
}

// SendWindow is when follow-ups may go: these days of the week, from
// From to To ("09:00", "18:00"; To may be "24:00"), in TimeZone (an IANA
// name), or in the customer's own zone once their page reported it.
type SendWindow struct {
	Days     []string `json:"days"`
	From     string   `json:"from"`
	To       string   `json:"to"`
	TimeZone string   `json:"time_zone"`
}

// AwayNoticeSettings: a customer who has joined, is offline and gets an
// agent's message hears of it After that message if they did not come
// back in the meantime.
type AwayNoticeSettings struct {
	Enabled bool     `json:"enabled"`
	After   Duration `json:"after"`
}

// ExpiryWarningSettings: a customer with tasks to do is warned Before
// their link expires.
type ExpiryWarningSettings struct {
	Enabled bool     `json:"enabled"`
	Before  Duration `json:"before"`
}

// Weekdays are the days a window may name, Sunday first as time.Weekday.
var Weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Follow-up bounds besides Config.FollowupMinDelay.
const (
	// DefaultFollowupMinDelay is the shortest delay or interval a
	// setting may give: less would let a typo flood a customer.
	DefaultFollowupMinDelay = 5 * time.Minute
	maxReminders            = 10
)

// DefaultFollowups are a new deployment's follow-up settings: all off,
// with values that make sense once switched on.
func DefaultFollowups() FollowupSettings {
	return FollowupSettings{
		Reminders: ReminderSettings{FirstAfter: Duration(24 * time.Hour), Every: Duration(48 * time.Hour), Max: 2},
		Window: SendWindow{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00",
			TimeZone: "UTC"},
		AwayNotice:    AwayNoticeSettings{After: Duration(time.Hour)},
		ExpiryWarning: ExpiryWarningSettings{Before: Duration(24 * time.Hour)},
	}
}

// anyOn says whether any follow-up is switched on.
func (f FollowupSettings) anyOn() bool {
	return f.Reminders.Enabled || f.AwayNotice.Enabled || f.ExpiryWarning.Enabled
}

// validFollowups checks follow-up settings at path ("followups" or
// "settings.followups"); min is the shortest delay allowed. An unset
// block (all zero) is valid: everything is off.
func validFollowups(f FollowupSettings, path string, min time.Duration, fp problems) {
	if !f.anyOn() && f.Window.zero() {
		return
	}
	validWindow(f.Window, path+".window", fp)
	atLeast := func(d Duration, field string, on bool) {
		if on && (d.Std() < min || d > maxDuration) {
			fp.add(path+"."+field, fmt.Sprintf("must be between %s and 1 year", Duration(min)))
		}
	}
	r := f.Reminders
	atLeast(r.FirstAfter, "reminders.first_after", r.Enabled)
	atLeast(r.Every, "reminders.every", r.Enabled)
	if r.Enabled && (r.Max < 1 || r.Max > maxReminders) {
		fp.add(path+".reminders.max", fmt.Sprintf("must be between 1 and %d", maxReminders))
	}
	atLeast(f.AwayNotice.After, "away_notice.after", f.AwayNotice.Enabled)
	atLeast(f.ExpiryWarning.Before, "expiry_warning.before", f.ExpiryWarning.Enabled)
}

// withFollowupDefaults gives a block left out of a PUT (all zero) the
// defaults, which are all off: what is read back is a usable block.
func withFollowupDefaults(f FollowupSettings) FollowupSettings {
	if !f.anyOn() && f.Window.zero() && f.Reminders.Max == 0 {
		return DefaultFollowups()
	}
	if f.Window.Days == nil {
		f.Window.Days = []string{}
	}
	return f
}

func (w SendWindow) zero() bool {
	return len(w.Days) == 0 && w.From == "" && w.To == "" && w.TimeZone == ""
}

func validWindow(w SendWindow, path string, fp problems) {
	seen := map[string]bool{}
	for _, d := range w.Days {
		if !slices.Contains(Weekdays, d) || seen[d] {
			fp.add(path+".days", "must name days once each, as mon, tue, wed, thu, fri, sat, sun")
		}
		seen[d] = true
	}
	if len(w.Days) == 0 {
		fp.add(path+".days", "no hours: name at least one day")
	}
	from, ok1 := clockMinutes(w.From)
	to, ok2 := clockMinutes(w.To)
	switch {
	case !ok1:
		fp.add(path+".from", `must be a time such as "09:00"`)
	case !ok2:
		fp.add(path+".to", `must be a time such as "18:00" (at most "24:00")`)
	case from >= to:
		fp.add(path+".to", "no hours: must be after from")
	}
	if _, ok := zone(w.TimeZone); !ok {
		fp.add(path+".time_zone", "must be a time zone such as Europe/Paris or UTC")
	}
}

// clockMinutes reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%2d:%2d", &h, &m); err != nil || h < 0 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, false
	}
	return h*60 + m, true
}

// zone loads an IANA time zone; "Local" and empty names are refused:
// they would mean the server's zone, which nobody chose.
func zone(name string) (*time.Location, bool) {
	if name == "" || name == "Local" || len(name) > 64 || strings.ContainsAny(name, " \\") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// NextIn is the first instant at or after t inside the window, in loc
// (the window's own zone when nil); zero when the window has no hours.
// Wall-clock times a DST change skips move forward with the clock, as
// time.Date does.
func (w SendWindow) NextIn(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		var ok bool
		if loc, ok = zone(w.TimeZone); !ok {
			loc = time.UTC
		}
	}
	from, ok1 := clockMinutes(w.From)
	to, ok2 := clockMinutes(w.To)
	if !ok1 || !ok2 || from >= to {
		return time.Time{}
	}
	local := t.In(loc)
	for d := 0; d <= 7; d++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 0, 0, 0, 0, loc)
		if !slices.Contains(w.Days, Weekdays[day.Weekday()]) {
			continue
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), 0, from, 0, 0, loc)
		end := time.Date(day.Year(), day.Month(), day.Day(), 0, to, 0, 0, loc)
		if !t.Before(end) {
			continue
		}
		if t.Before(start) {
			return start.UTC()
		}
		return t.UTC()
	}
	return time.Time{}
}
