package soak

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// history builds a room whose two participants joined at seq 0 and then
// both saw messages m1..mN at seq 1..N, each sent by the agent and acked.
func history(n int) (*Record, *Room) {
	r := &Room{ID: "s_1", Agent: newParticipant("s_1", "agent"), Customer: newParticipant("s_1", "customer")}
	for _, p := range r.Participants() {
		p.joined(Join{At: at(0), Since: -1, Epoch: "e1", Seq: 0})
	}
	for i := 1; i <= n; i++ {
		id := "a-" + itoa(i)
		r.Agent.sent(id, at(10*i))
		r.Agent.acked(id, int64(i), at(10*i+1))
		for _, p := range r.Participants() {
			p.delivered(Delivery{Epoch: "e1", Seq: int64(i), Key: "m:" + id, At: at(10*i + 2)})
		}
	}
	return &Record{Rooms: []*Room{r}, Grace: 3 * time.Second, TTL: 10 * time.Second, Start: t0, End: at(60_000)}, r
}

// itoa is two digits: ids sort as they were sent.
func itoa(i int) string { return fmt.Sprintf("%02d", i) }

func TestCheckerCleanHistory(t *testing.T) {
	rec, _ := history(5)
	v := Check(rec)
	if !v.Clean() || v.Sent != 5 || v.Acked != 5 || v.Deliveries != 10 {
		t.Fatalf("clean history judged %+v", v)
	}
	if !strings.Contains(Report(rec, v, 5), "verdict: CLEAN") {
		t.Fatal("report does not say clean")
	}
}

// Each broken promise is caught, and named.
func TestCheckerCatchesEachViolation(t *testing.T) {
	cases := map[string]func(rec *Record, r *Room){
		Lost: func(rec *Record, r *Room) { r.Customer.Deliveries = r.Customer.Deliveries[:4] },
		Duplicated: func(rec *Record, r *Room) {
			d := r.Customer.Deliveries[4]
			d.N = 100
			r.Customer.Deliveries = append(r.Customer.Deliveries, d)
		},
		Reordered: func(rec *Record, r *Room) {
			r.Customer.Deliveries[1].Key, r.Customer.Deliveries[2].Key = r.Customer.Deliveries[2].Key, r.Customer.Deliveries[1].Key
		},
		Gap: func(rec *Record, r *Room) {
			r.Customer.Deliveries = append(r.Customer.Deliveries[:2], r.Customer.Deliveries[3:]...)
		},
		Phantom: func(rec *Record, r *Room) {
			r.Customer.delivered(Delivery{Epoch: "e1", Seq: 6, Key: "m:ghost", At: at(100)})
			r.Agent.delivered(Delivery{Epoch: "e1", Seq: 6, Key: "m:ghost", At: at(100)})
		},
		Epoch: func(rec *Record, r *Room) {
			r.Customer.joined(Join{At: at(200), Since: 5, Epoch: "e2", Seq: 0, Recovered: yes()})
		},
		Flap: func(rec *Record, r *Room) { r.Agent.offline(at(30_000)) },
		Ghost: func(rec *Record, r *Room) {
			rec.Faults = append(rec.Faults, Fault{Kind: "away", Room: r.ID, From: at(20_000), To: at(40_000)})
			r.Customer.down(at(20_000))
		},
	}
	for kind, breakIt := range cases {
		t.Run(kind, func(t *testing.T) {
			rec, r := history(5)
			breakIt(rec, r)
			v := Check(rec)
			if v.Counts[kind] == 0 {
				t.Fatalf("%s not caught: %+v", kind, v.Counts)
			}
			if rep := Report(rec, v, 3); !strings.Contains(rep, "verdict: VIOLATIONS") || !strings.Contains(rep, kind+" at +") {
				t.Fatalf("report:\n%s", rep)
			}
		})
	}
}

// What the protocol allows is not a violation: a resume after a
// reconnect, an epoch change announced as recovered:false, an
// unacknowledged send never delivered, and offline after a real absence.
func TestCheckerAcceptsWhatIsAllowed(t *testing.T) {
	rec, r := history(3)
	// The customer drops at 40 ms and resumes from seq 3 while m4 is sent.
	r.Customer.down(at(40))
	r.Agent.sent("a-04", at(45))
	r.Agent.acked("a-04", 4, at(46))
	r.Agent.delivered(Delivery{Epoch: "e1", Seq: 4, Key: "m:a-04", At: at(47)})
	r.Customer.joined(Join{At: at(60), Since: 3, Epoch: "e1", Seq: 4, Recovered: yes()})
	r.Customer.delivered(Delivery{Epoch: "e1", Seq: 4, Key: "m:a-04", At: at(61)})
	// A send whose reply was lost and that never arrived.
	r.Customer.sent("c-01", at(50))
	// The log was lost: a new epoch, announced, numbering again from 1.
	for _, p := range r.Participants() {
		p.joined(Join{At: at(100), Since: 4, Epoch: "e2", Seq: 0, Recovered: no()})
	}
	r.Agent.sent("a-05", at(110))
	r.Agent.acked("a-05", 1, at(111))
	for _, p := range r.Participants() {
		p.delivered(Delivery{Epoch: "e2", Seq: 1, Key: "m:a-05", At: at(112)})
	}
	// Away for five seconds, past the grace: shown offline, rightly.
	r.Customer.down(at(10_000))
	r.Agent.offline(at(13_200))
	r.Customer.joined(Join{At: at(15_000), Since: 1, Epoch: "e2", Seq: 1, Recovered: yes()})
	// Sent away by the nemesis, and shown offline within the TTL and grace.
	rec.Faults = []Fault{{Kind: "away", Target: "customer", Room: r.ID, From: at(20_000), To: at(35_000)}}
	r.Customer.down(at(20_000))
	r.Agent.offline(at(23_500))
	r.Customer.joined(Join{At: at(35_000), Since: 1, Epoch: "e2", Seq: 1, Recovered: yes()})
	v := Check(rec)
	if !v.Clean() {
		t.Fatalf("allowed history judged:\n%s", Report(rec, v, 10))
	}
	if v.EpochChanges != 2 || v.Unacked != 1 || v.Offline != 2 {
		t.Fatalf("counts: %+v", v)
	}
}

// TestCheckReminders: more reminders sent than logged, or two sent
// closer than half the interval, is a duplicate; fewer than two is lost;
// a run that sent each once in its time is clean.
func TestCheckReminders(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	at := func(s ...int) []time.Time {
		var out []time.Time
		for _, x := range s {
			out = append(out, t0.Add(time.Duration(x)*time.Second))
		}
		return out
	}
	for name, c := range map[string]struct {
		r    Reminded
		want string
	}{
		"clean":              {Reminded{Sent: at(1, 11, 21), Logged: 3}, ""},
		"sent twice, logged": {Reminded{Sent: at(1, 11, 11), Logged: 3}, Duplicated},
		"more than logged":   {Reminded{Sent: at(1, 11, 21), Logged: 2}, Duplicated},
		"too few":            {Reminded{Sent: at(1), Logged: 1}, Lost},
	} {
		r := c.r
		rec := &Record{Reminded: []*Reminded{&r}, ReminderEvery: 10 * time.Second, End: t0.Add(time.Minute)}
		v := Check(rec)
		got := ""
		if len(v.Violations) > 0 {
			got = v.Violations[0].Kind
		}
		if got != c.want {
			t.Errorf("%s: verdict %q, want %q (%+v)", name, got, c.want, v.Violations)
		}
	}
}
