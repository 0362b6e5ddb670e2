package soak

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The soak's reminder sessions: invited by email, never joined, each
// with a task to do, reminded by whichever node is up while the nemesis
// kills and restarts them. The checker counts what the outbox sent.
const (
	// reminderMax is each session's reminders at most.
	reminderMax = 6
	// followupMinDelay is the nodes' --followup-min-delay: the soak's
	// reminders come seconds apart, not minutes.
	followupMinDelay = time.Second
	// followupPoll is the nodes' --followup-poll.
	followupPoll = 100 * time.Millisecond
)

// Reminded is one reminder session as the checker judges it.
type Reminded struct {
	ID, Contact string
	// Sent are the times of the reminders the outbox holds for it.
	Sent []time.Time
	// Logged counts the reminders its room log says were sent.
	Logged int
}

// reminderEvery spreads a session's reminders over the run, so that
// the nemesis strikes while they are due.
func reminderEvery(run time.Duration) time.Duration {
	return max(followupMinDelay, (run / reminderMax).Truncate(time.Second))
}

// startReminders sets the org's reminders and starts n sessions to
// remind: the first a second after the invitation, then one every
// `every`, at any hour of any day.
func startReminders(ctx context.Context, base, token string, n int, every time.Duration, rec *Record) error {
	var set map[string]any
	if err := call(ctx, base, token, "GET", "/api/settings", nil, &set); err != nil {
		return err
	}
	set["followups"] = map[string]any{
		"reminders": map[string]any{"enabled": true, "first_after": followupMinDelay.String(), "every": every.String(), "max": reminderMax},
		"window": map[string]any{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
			"from": "00:00", "to": "24:00", "time_zone": "UTC"},
		"away_notice":    map[string]any{"enabled": false, "after": followupMinDelay.String()},
		"expiry_warning": map[string]any{"enabled": false, "before": "24h"},
	}
	if err := call(ctx, base, token, "PUT", "/api/settings", set, &set); err != nil {
		return err
	}
	rec.ReminderEvery = every
	for i := range n {
		contact := fmt.Sprintf("remind-%d@example.com", i)
		var s struct{ ID string }
		body := map[string]any{"mode": "start", "customer": map[string]string{"name": fmt.Sprintf("Remind %d", i), "email": contact},
			"tasks": []map[string]string{{"kind": "custom", "title": "Send your payslip"}}}
		if err := call(ctx, base, token, "POST", "/api/sessions", body, &s); err != nil {
			return err
		}
		rec.Reminded = append(rec.Reminded, &Reminded{ID: s.ID, Contact: contact})
	}
	return nil
}

// remindSessions starts the run's reminder sessions.
func remindSessions(ctx context.Context, base string, cfg Config, rec *Record) error {
	token, err := login(ctx, base)
	if err != nil {
		return err
	}
	return startReminders(ctx, base, token, cfg.Reminders, reminderEvery(cfg.Duration), rec)
}

// settleReminders reads what was sent once a second until two readings
// agree: a reminder is logged just after it is sent, and one may be on
// its way when the run ends.
func settleReminders(ctx context.Context, urls []string, rec *Record) error {
	prev := ""
	for range 30 {
		if err := collectReminders(ctx, urls, rec); err != nil {
			return err
		}
		now := ""
		for _, r := range rec.Reminded {
			now += fmt.Sprintf("%d/%d ", len(r.Sent), r.Logged)
		}
		if now == prev {
			return nil
		}
		prev = now
		sleep(ctx, time.Second)
	}
	return nil
}

// collectReminders reads the outbox and each reminder session's log
// from the first node that answers.
func collectReminders(ctx context.Context, urls []string, rec *Record) error {
	var err error
	for _, base := range urls {
		if err = collectFrom(ctx, base, rec); err == nil {
			return nil
		}
	}
	return err
}

func collectFrom(ctx context.Context, base string, rec *Record) error {
	token, err := login(ctx, base)
	if err != nil {
		return err
	}
	var box struct {
		Messages []struct {
			To, Subject string
			At          time.Time
		}
	}
	if err := call(ctx, base, token, "GET", "/api/outbox", nil, &box); err != nil {
		return err
	}
	for _, r := range rec.Reminded {
		r.Sent, r.Logged = nil, 0
		for _, m := range box.Messages {
			if m.To == r.Contact && strings.HasPrefix(m.Subject, "Reminder") {
				r.Sent = append(r.Sent, m.At)
			}
		}
		var log struct {
			Events []struct{ Type, State string }
		}
		if err := call(ctx, base, token, "GET", "/api/sessions/"+r.ID+"/events", nil, &log); err != nil {
			return err
		}
		for _, e := range log.Events {
			if e.Type == "reminder" && e.State == "sent" {
				r.Logged++
			}
		}
	}
	return nil
}

// checkReminders: no reminder sent twice (more sent than the log
// records, more than the most allowed, or two closer than half the
// interval), and reminders went on through the faults (at least two
// each).
func checkReminders(rec *Record, v *Verdict) {
	for _, r := range rec.Reminded {
		bad := func(kind, detail string) {
			v.add(Violation{Kind: kind, Room: r.ID, Role: "reminders", Key: r.Contact, At: rec.End, Detail: detail})
		}
		v.Reminders += len(r.Sent)
		switch {
		case len(r.Sent) > r.Logged || len(r.Sent) > reminderMax:
			bad(Duplicated, fmt.Sprintf("%d reminders sent, %d logged, at most %d allowed", len(r.Sent), r.Logged, reminderMax))
		case len(r.Sent) < 2:
			bad(Lost, fmt.Sprintf("only %d reminders sent in the run", len(r.Sent)))
		}
		for i := 1; i < len(r.Sent); i++ {
			if gap := r.Sent[i-1].Sub(r.Sent[i]).Abs(); gap < rec.ReminderEvery/2 {
				bad(Duplicated, fmt.Sprintf("two reminders %s apart (every %s)", gap, rec.ReminderEvery))
			}
		}
	}
}
