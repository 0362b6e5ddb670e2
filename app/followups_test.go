package app_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

// sendFunc is a notify.Sender made of a function.
type sendFunc func(context.Context, notify.Message) error

func (f sendFunc) Send(ctx context.Context, m notify.Message) error { return f(ctx, m) }

// reminders are the reminders the cluster's outbox holds.
func reminders(c *livetest.Cluster) []notify.Message {
	c.T.Helper()
	msgs, err := c.Outbox.List(context.Background(), 1000)
	c.Must(err)
	var out []notify.Message
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, "Reminder") {
			out = append(out, m)
		}
	}
	return out
}

// waitFor polls cond, an observable state of the cluster, until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRemindersSurviveTheirNode: three nodes on one Redis. The node that
// started the session (whose worker was woken for it) is killed before
// the reminder is due: another node sends it, once. Then the node that
// is sending the next reminder dies in the middle of the send: when its
// lease runs out another node takes the session over, finds that
// reminder recorded and does not send it again (at most once: the one
// cut short is lost, as DESIGN §3 says), and sends the one after, once.
func TestRemindersSurviveTheirNode(t *testing.T) {
	var hang atomic.Bool
	held, dead := make(chan string, 1), make(chan struct{})
	t.Cleanup(func() { close(dead) })
	opts := livetest.Options{
		// A send lasts as long as it waits: the one cut short must not
		// end (and log its failure) while the test runs, as a dead
		// node's would not.
		Rooms:     func(c *rooms.Config) { c.FollowupMinDelay, c.SendTimeout = time.Minute, time.Hour },
		Followups: func(o *followup.Options) { o.Lease = 2 * time.Minute },
		Sender: func(node string, outbox notify.Sender) notify.Sender {
			return sendFunc(func(ctx context.Context, m notify.Message) error {
				if strings.HasPrefix(m.Subject, "Reminder") && hang.CompareAndSwap(true, false) {
					held <- node
					<-dead
					return context.Canceled
				}
				return outbox.Send(ctx, m)
			})
		},
	}
	c := livetest.NewClusterWith(t, "redis", 3, livetest.Fast(), opts)
	ctx := context.Background()
	set, err := c.Service().Store().Settings(ctx)
	c.Must(err)
	set.Followups.Reminders = rooms.ReminderSettings{Enabled: true, FirstAfter: rooms.Duration(time.Minute),
		Every: rooms.Duration(10 * time.Minute), Max: 3}
	set.Followups.Window = rooms.SendWindow{Days: rooms.Weekdays, From: "00:00", To: "24:00", TimeZone: "UTC"}
	_, err = c.Service().Accounts.PutSettings(ctx, set)
	c.Must(err)
	id, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Casey", Email: "casey@example.com"},
		Tasks: []rooms.TaskTemplate{{Kind: "custom", Title: "Send your payslip"}}})

	c.Nodes[0].Kill()
	c.Clock.Advance(time.Minute + time.Second)
	waitFor(t, "the first reminder from a node still up", func() bool { return len(reminders(c)) == 1 })

	hang.Store(true)
	c.Clock.Advance(10 * time.Minute)
	var dying string
	select {
	case dying = <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("no node began the second reminder")
	}
	for _, n := range c.Nodes {
		if n.Hub.ID() == dying {
			n.Kill()
		}
	}
	// The lease runs out; the surviving node wakes the session and finds
	// the second reminder recorded: nothing is due before the third.
	c.Clock.Advance(2*time.Minute + time.Second)
	waitFor(t, "the session woken again after the lease", func() bool {
		s, err := c.Service().Store().Session(ctx, id)
		return err == nil && s.Internal.Followups.Reminders == 2 && scheduled(t, c, id).After(c.Clock.Now())
	})
	if n := len(reminders(c)); n != 1 {
		t.Fatalf("%d reminders after the node died mid-send, want 1 (the cut-short one is not resent)", n)
	}
	c.Clock.Advance(10 * time.Minute)
	waitFor(t, "the third reminder", func() bool { return len(reminders(c)) == 2 })
	c.Clock.Advance(time.Hour)
	waitFor(t, "the session to be done", func() bool { return scheduled(t, c, id).IsZero() })
	if n := len(reminders(c)); n != 2 {
		t.Fatalf("%d reminders in all, want 2", n)
	}
}

// scheduled is when the session is next due in Redis (zero: not at all).
func scheduled(t *testing.T, c *livetest.Cluster, id string) time.Time {
	ms, err := c.RedisClient().ZScore(context.Background(), c.Prefix+"{fu}:due", id).Result()
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}
