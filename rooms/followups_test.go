package rooms_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/testclock"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/storetest"
)

// monday is 08:00 UTC on a Monday.
var monday = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

// schedule is the follow-ups' schedule reduced to what the domain
// asks of it: the earliest time per session.
type schedule struct {
	mu  sync.Mutex
	due map[string]time.Time
}

func (s *schedule) Sooner(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.due[id]; !ok || at.Before(cur) {
		s.due[id] = at
	}
	return nil
}

func (s *schedule) at(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.due[id]
}

// failing refuses every message while on.
type failing struct {
	notify.Sender
	mu sync.Mutex
	on bool
}

func (f *failing) Send(ctx context.Context, m notify.Message) error {
	f.mu.Lock()
	on := f.on
	f.mu.Unlock()
	if on {
		return errors.New("provider down")
	}
	return f.Sender.Send(ctx, m)
}

type fx struct {
	t     *testing.T
	ctx   context.Context
	svc   *rooms.Service
	clock *testclock.Clock
	box   *notify.MemoryOutbox
	send  *failing
	sched *schedule
	agent *rooms.Agent
}

// followupFixture is a service whose org reminds 1h after the invitation,
// then every 2h, twice, Monday to Friday 09:00–18:00 UTC.
func followupFixture(t *testing.T, edit func(*rooms.FollowupSettings)) *fx {
	t.Helper()
	f := &fx{t: t, ctx: context.Background(), clock: testclock.New(monday), box: notify.NewMemoryOutbox(100),
		sched: &schedule{due: map[string]time.Time{}}}
	f.send = &failing{Sender: f.box}
	st := memstore.New(nil)
	f.svc = rooms.NewService(st, f.send, rooms.Config{Secret: []byte("0123456789abcdef"), PublicURL: "https://cohub.test",
		Now: f.clock.Now, Followups: f.sched, FollowupMinDelay: time.Minute, BcryptCost: 4}, zerolog.Nop())
	set := rooms.DefaultSettings()
	set.Followups.Reminders = rooms.ReminderSettings{Enabled: true, FirstAfter: rooms.Duration(time.Hour), Every: rooms.Duration(2 * time.Hour), Max: 2}
	if edit != nil {
		edit(&set.Followups)
	}
	_, err := f.svc.Accounts.PutSettings(f.ctx, set)
	storetest.Must(t, err)
	_, err = f.svc.Accounts.BootstrapAdmin(f.ctx, "admin@cohub.test", "correct-horse-battery")
	storetest.Must(t, err)
	f.agent, err = st.AgentByEmail(f.ctx, "admin@cohub.test")
	storetest.Must(t, err)
	return f
}

// start invites a customer with one task to do, now.
func (f *fx) start() *rooms.Session {
	f.t.Helper()
	sess, err := f.svc.Sessions.Create(f.ctx, f.agent, rooms.CreateRequest{Mode: "start",
		Customer: rooms.Customer{Name: "Jane", Email: "jane@example.com"},
		Tasks:    []rooms.TaskTemplate{{Kind: "custom", Title: "Send the form"}}})
	storetest.Must(f.t, err)
	return sess
}

// wake wakes the session and returns when it wants to wake next.
func (f *fx) wake(id string) time.Time {
	f.t.Helper()
	next, err := f.svc.Followups.Wake(f.ctx, id)
	storetest.Must(f.t, err)
	return next
}

// sent are the messages of kind ("Reminder", "new message", …) in the outbox.
func (f *fx) sent(subject string) []notify.Message {
	f.t.Helper()
	all, err := f.box.List(f.ctx, 100)
	storetest.Must(f.t, err)
	var out []notify.Message
	for _, m := range all {
		if strings.Contains(m.Subject, subject) {
			out = append(out, m)
		}
	}
	return out
}

// logged are the session's events of typ.
func (f *fx) logged(id, typ string) []rooms.Event {
	f.t.Helper()
	evs, err := f.svc.Store().Events(f.ctx, id, 0, 1000)
	storetest.Must(f.t, err)
	var out []rooms.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// The first reminder goes first_after the invitation, the next every
// interval later, no more than max; each is logged, and its message
// carries the session's link and the stop link.
func TestReminderSchedule(t *testing.T) {
	f := followupFixture(t, nil)
	sess := f.start()
	wantTime(t, "scheduled after the invitation", f.sched.at(sess.ID), monday.Add(time.Hour))
	if sess.LinkExpiresAt == nil || !sess.LinkExpiresAt.Equal(monday.Add(72*time.Hour)) {
		t.Fatalf("link_expires_at = %v", sess.LinkExpiresAt)
	}
	wantTime(t, "early wake", f.wake(sess.ID), monday.Add(time.Hour))
	if n := len(f.sent("Reminder")); n != 0 {
		t.Fatalf("%d reminders before the delay", n)
	}
	f.clock.Set(monday.Add(time.Hour))
	wantTime(t, "after the first", f.wake(sess.ID), monday.Add(3*time.Hour))
	got := f.sent("Reminder")
	if len(got) != 1 || !strings.Contains(got[0].Body, "https://cohub.test/c/"+sess.ID+".") ||
		!strings.Contains(got[0].Body, "https://cohub.test/stop/"+sess.ID+".") || got[0].To != "jane@example.com" {
		t.Fatalf("first reminder = %+v", got)
	}
	f.clock.Set(monday.Add(3 * time.Hour))
	wantTime(t, "after the last", f.wake(sess.ID), time.Time{})
	f.clock.Set(monday.Add(10 * time.Hour))
	f.wake(sess.ID)
	evs := f.logged(sess.ID, rooms.EventReminder)
	if len(f.sent("Reminder")) != 2 || len(evs) != 2 || evs[0].State != rooms.FollowupSent || evs[0].Channel != "email" {
		t.Fatalf("reminders: %d sent, events %+v", len(f.sent("Reminder")), evs)
	}
	shown, err := f.svc.Sessions.Show(f.ctx, f.agent, sess.ID)
	storetest.Must(t, err)
	if r := shown.Followups.Reminders; r.Sent != 2 || r.Max != 2 || r.Status != rooms.RemindersDone {
		t.Fatalf("card = %+v", r)
	}
}

// A reminder due outside the window waits for its next opening, and
// the window is read in the customer's time zone once their page
// reported it.
func TestReminderWindow(t *testing.T) {
	f := followupFixture(t, nil)
	friday := monday.Add(4*24*time.Hour + 9*time.Hour + 30*time.Minute) // Fri 17:30
	f.clock.Set(friday)
	sess := f.start()
	nextMonday := monday.Add(7*24*time.Hour + time.Hour) // Mon 09:00
	wantTime(t, "due Friday 18:30, outside", f.sched.at(sess.ID), nextMonday)
	f.clock.Set(friday.Add(time.Hour))
	wantTime(t, "Friday evening wake", f.wake(sess.ID), nextMonday)
	if n := len(f.sent("Reminder")); n != 0 {
		t.Fatalf("%d reminders outside the window", n)
	}
	link, err := f.svc.Sessions.NewLink(f.ctx, f.agent, sess.ID)
	storetest.Must(t, err)
	tok := link.URL[strings.LastIndex(link.URL, "/")+1:]
	if err := f.svc.Gates.SetTimeZone(f.ctx, tok, "Mars/Olympus"); err == nil {
		t.Fatal("an unknown time zone was kept")
	}
	storetest.Must(t, f.svc.Gates.SetTimeZone(f.ctx, tok, "Asia/Tokyo"))
	// Friday 18:30 UTC is Saturday 03:30 in Tokyo; Monday 09:00 there
	// is 00:00 UTC.
	wantTime(t, "in the customer's zone", f.wake(sess.ID), nextMonday.Add(-9*time.Hour))
	f.clock.Set(nextMonday.Add(-9 * time.Hour))
	f.wake(sess.ID)
	if n := len(f.sent("Reminder")); n != 1 {
		t.Fatalf("%d reminders once the window opened", n)
	}
}

// Completion, the end, an opt-out and a pause each stop reminders; a
// resume and a re-engage (a new contact, counted afresh) start them.
func TestReminderStops(t *testing.T) {
	due := monday.Add(time.Hour)
	for name, stop := range map[string]func(f *fx, s *rooms.Session){
		"completed": func(f *fx, s *rooms.Session) {
			_, err := f.svc.Gates.CompleteTask(f.ctx, s.ID, s.Tasks[0].ID, nil)
			storetest.Must(t, err)
		},
		"ended": func(f *fx, s *rooms.Session) {
			_, err := f.svc.Sessions.End(f.ctx, f.agent, s.ID)
			storetest.Must(t, err)
		},
		"opted out": func(f *fx, s *rooms.Session) {
			u := f.svc.Followups.StopURL(s)
			tok := u[strings.LastIndex(u, "/")+1:]
			page, err := f.svc.Followups.StopInfo(f.ctx, tok)
			storetest.Must(t, err)
			if page.Stopped {
				t.Fatal("reading the stop link stopped reminders")
			}
			if _, err := f.svc.Followups.StopReminders(f.ctx, tok[:len(tok)-2]+"xx"); !errors.Is(err, rooms.ErrLinkInvalid) {
				t.Fatalf("a forged stop link: %v", err)
			}
			_, err = f.svc.Followups.StopReminders(f.ctx, tok)
			storetest.Must(t, err)
			if len(f.logged(s.ID, rooms.EventRemindersStopped)) != 1 {
				t.Fatal("the opt-out is not in the room's log")
			}
		},
		"paused": func(f *fx, s *rooms.Session) {
			_, err := f.svc.Followups.PauseReminders(f.ctx, f.agent, s.ID)
			storetest.Must(t, err)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := followupFixture(t, nil)
			sess := f.start()
			stop(f, sess)
			f.clock.Set(due)
			wantTime(t, "next", f.wake(sess.ID), time.Time{})
			if n := len(f.sent("Reminder")); n != 0 {
				t.Fatalf("%d reminders after it stopped", n)
			}
		})
	}
	t.Run("resumed", func(t *testing.T) {
		f := followupFixture(t, nil)
		sess := f.start()
		_, err := f.svc.Followups.PauseReminders(f.ctx, f.agent, sess.ID)
		storetest.Must(t, err)
		f.clock.Set(due.Add(time.Hour))
		f.sched.due = map[string]time.Time{}
		s, err := f.svc.Followups.ResumeReminders(f.ctx, f.agent, sess.ID)
		storetest.Must(t, err)
		// The reminder missed while paused is due at once.
		wantTime(t, "scheduled on resume", f.sched.at(sess.ID), due)
		if s.Followups.Reminders.Status != rooms.RemindersScheduled || len(f.logged(sess.ID, rooms.EventRemindersPaused)) != 1 ||
			len(f.logged(sess.ID, rooms.EventRemindersResumed)) != 1 {
			t.Fatalf("after resume: %+v", s.Followups)
		}
		f.wake(sess.ID)
		if n := len(f.sent("Reminder")); n != 1 {
			t.Fatalf("%d reminders after resume", n)
		}
	})
	t.Run("re-engaged", func(t *testing.T) {
		f := followupFixture(t, nil)
		sess := f.start()
		f.clock.Set(due)
		f.wake(sess.ID)
		f.clock.Set(due.Add(30 * time.Minute))
		s, err := f.svc.Sessions.Reengage(f.ctx, f.agent, sess.ID, rooms.Customer{Name: "Jane", Email: "jane.doe@example.com"})
		storetest.Must(t, err)
		if r := s.Followups.Reminders; r.Sent != 0 || r.NextAt == nil || !r.NextAt.Equal(due.Add(90*time.Minute)) {
			t.Fatalf("after re-engage: %+v", r)
		}
	})
}

// Many nodes waking the same session at once send its reminder once.
func TestReminderOnceAcrossWakes(t *testing.T) {
	f := followupFixture(t, nil)
	sess := f.start()
	f.clock.Set(monday.Add(time.Hour))
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.Followups.Wake(f.ctx, sess.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, evs := len(f.sent("Reminder")), f.logged(sess.ID, rooms.EventReminder); n != 1 || len(evs) != 1 {
		t.Fatalf("%d reminders sent, %d logged, want 1", n, len(evs))
	}
}

// A reminder the provider refuses is logged as failed.
func TestReminderFailedLogged(t *testing.T) {
	f := followupFixture(t, nil)
	sess := f.start()
	f.send.on = true
	f.clock.Set(monday.Add(time.Hour))
	f.wake(sess.ID)
	evs := f.logged(sess.ID, rooms.EventReminder)
	if len(evs) != 1 || evs[0].State != rooms.FollowupFailed {
		t.Fatalf("events = %+v", evs)
	}
}

// An agent's message to a customer who left schedules a wake; the
// notice goes after the quiet period, once for messages inside it, and
// not at all when the customer came back meanwhile.
func TestAwayNotice(t *testing.T) {
	f := followupFixture(t, func(fs *rooms.FollowupSettings) {
		fs.Reminders.Enabled = false
		fs.AwayNotice = rooms.AwayNoticeSettings{Enabled: true, After: rooms.Duration(30 * time.Minute)}
		fs.Window = rooms.SendWindow{Days: rooms.Weekdays, From: "00:00", To: "24:00", TimeZone: "UTC"}
	})
	sess := f.start()
	_, err := f.svc.Gates.CustomerJoined(f.ctx, sess.ID)
	storetest.Must(t, err)
	storetest.Must(t, f.svc.Sessions.SeenAt(f.ctx, sess.ID, monday.Add(10*time.Minute)))
	post := func(at time.Duration, online bool) {
		f.clock.Set(monday.Add(at))
		_, err := f.svc.Sessions.PostMessage(f.ctx, sess.ID, rooms.Message{
			From: rooms.Actor{Role: "agent", ID: f.agent.ID, Name: "Ann"}, Text: "Any news?", CustomerOnline: online})
		storetest.Must(t, err)
	}
	post(20*time.Minute, true)
	if !f.sched.at(sess.ID).IsZero() {
		t.Fatal("a message to a connected customer scheduled a wake")
	}
	post(21*time.Minute, false)
	wantTime(t, "scheduled by the message", f.sched.at(sess.ID), monday.Add(22*time.Minute))
	post(25*time.Minute, false)
	f.clock.Set(monday.Add(22 * time.Minute))
	wantTime(t, "notice due", f.wake(sess.ID), monday.Add(50*time.Minute)) // the first unseen message +30m
	f.clock.Set(monday.Add(50 * time.Minute))
	wantTime(t, "after the notice", f.wake(sess.ID), time.Time{})
	f.clock.Set(monday.Add(55 * time.Minute))
	f.wake(sess.ID)
	if n, evs := len(f.sent("new message")), f.logged(sess.ID, rooms.EventAwayNotice); n != 1 || len(evs) != 1 {
		t.Fatalf("%d notices, %d logged; want one for the quiet period", n, len(evs))
	}
	post(60*time.Minute, false)
	// The customer came back and left before the quiet period ended.
	storetest.Must(t, f.svc.Sessions.SeenAt(f.ctx, sess.ID, monday.Add(70*time.Minute)))
	f.clock.Set(monday.Add(2 * time.Hour))
	wantTime(t, "after they came back", f.wake(sess.ID), time.Time{})
	if n := len(f.sent("new message")); n != 1 {
		t.Fatalf("%d notices; the customer had come back", n)
	}
}

// The expiry warning goes `before` ahead of the link's end, inside the
// window, once per link.
func TestExpiryWarning(t *testing.T) {
	f := followupFixture(t, func(fs *rooms.FollowupSettings) {
		fs.Reminders.Enabled = false
		fs.ExpiryWarning = rooms.ExpiryWarningSettings{Enabled: true, Before: rooms.Duration(24 * time.Hour)}
	})
	sess := f.start() // the link lasts 72h: to Thursday 08:00
	wednesday := monday.Add(2*24*time.Hour + time.Hour)
	wantTime(t, "warning scheduled", f.sched.at(sess.ID), wednesday) // Wed 08:00 waits for 09:00
	f.clock.Set(wednesday)
	wantTime(t, "after the warning", f.wake(sess.ID), time.Time{})
	got := f.sent("expires")
	if len(got) != 1 || !strings.Contains(got[0].Subject, "2026-12-10 08:00 UTC") || len(f.logged(sess.ID, rooms.EventExpiryWarning)) != 1 {
		t.Fatalf("warnings = %+v", got)
	}
}

// The window's next opening, across days, weekends, time zones and
// daylight-saving changes.
func TestSendWindowNext(t *testing.T) {
	w := rooms.SendWindow{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00", TimeZone: "Europe/Paris"}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, paris) }
	for _, c := range []struct {
		name     string
		in, want time.Time
	}{
		{"inside", at(2026, 12, 7, 10, 0), at(2026, 12, 7, 10, 0)},
		{"before opening", at(2026, 12, 7, 7, 0), at(2026, 12, 7, 9, 0)},
		{"at closing", at(2026, 12, 7, 18, 0), at(2026, 12, 8, 9, 0)},
		{"Friday night", at(2026, 12, 11, 20, 0), at(2026, 12, 14, 9, 0)},
		{"Saturday", at(2026, 12, 12, 12, 0), at(2026, 12, 14, 9, 0)},
		// Summer time starts on Sunday 29 March 2026: Monday 09:00 is 07:00 UTC, not 08:00.
		{"into summer time", at(2026, 3, 27, 19, 0), time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)},
		// It ends on Sunday 25 October 2026: Monday 09:00 is 08:00 UTC again.
		{"into winter time", at(2026, 10, 23, 19, 0), time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)},
	} {
		if got := w.NextIn(c.in, nil); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want.UTC())
		}
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	// Monday 08:00 UTC is 17:00 in Tokyo: inside; 09:30 UTC is 18:30: Tuesday 09:00 Tokyo.
	if got := w.NextIn(monday, tokyo); !got.Equal(monday) {
		t.Errorf("customer's zone: %v", got)
	}
	if got := w.NextIn(monday.Add(90*time.Minute), tokyo); !got.Equal(time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("customer's zone, after closing: %v", got)
	}
	late := rooms.SendWindow{Days: []string{"sun"}, From: "22:00", To: "24:00", TimeZone: "UTC"}
	if got := late.NextIn(monday, nil); !got.Equal(time.Date(2026, 12, 13, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("one evening a week: %v", got)
	}
	for _, none := range []rooms.SendWindow{{Days: nil, From: "09:00", To: "18:00"}, {Days: w.Days, From: "18:00", To: "09:00"}} {
		if got := none.NextIn(monday, nil); !got.IsZero() {
			t.Errorf("a window with no hours opens at %v", got)
		}
	}
}

// A session invited while reminders were off is woken once they are
// turned on (and again when a team's follow-ups change), so it is
// reminded by the new settings instead of never.
func TestTurningRemindersOnReschedules(t *testing.T) {
	f := followupFixture(t, func(fs *rooms.FollowupSettings) { fs.Reminders.Enabled = false })
	sess := f.start()
	if at := f.sched.at(sess.ID); !at.IsZero() {
		t.Fatalf("scheduled at %v with reminders off", at)
	}
	set, err := f.svc.Store().Settings(f.ctx)
	storetest.Must(t, err)
	set.Followups.Reminders.Enabled = true
	_, err = f.svc.Accounts.PutSettings(f.ctx, set)
	storetest.Must(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for f.sched.at(sess.ID).IsZero() { // the reschedule runs in the background
		if time.Now().After(deadline) {
			t.Fatal("turning reminders on did not wake the session invited while they were off")
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantTime(t, "woken at once", f.sched.at(sess.ID), monday)
	wantTime(t, "then due an hour after the invitation", f.wake(sess.ID), monday.Add(time.Hour))
}
