package soak

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Violation kinds.
const (
	Lost       = "lost"       // an acknowledged message never reached a participant
	Duplicated = "duplicated" // a message reached a participant twice
	Reordered  = "reordered"  // two participants saw different events at one seq
	Gap        = "gap"        // a participant's seq skipped within an epoch
	Phantom    = "phantom"    // a message delivered that nobody sent
	Epoch      = "epoch"      // an epoch change not reported as recovered:false
	Flap       = "flap"       // the customer shown offline while present
	Ghost      = "ghost"      // the customer shown online long after leaving
)

// Violation is one broken promise.
type Violation struct {
	Kind, Room, Role string
	Seq              int64
	Key              string
	At               time.Time
	Detail           string
}

// Verdict is what the checker concluded.
type Verdict struct {
	Rooms, Sent, Acked, Unacked, Deliveries, EpochChanges, Offline, Reminders int
	Counts                                                                    map[string]int
	Violations                                                                []Violation
}

// Clean reports a run without violations.
func (v Verdict) Clean() bool { return len(v.Violations) == 0 }

// presenceMargin absorbs timing noise in the presence checks: pings,
// ticks and the client's own scheduling.
const presenceMargin = 1500 * time.Millisecond

// Check judges a run.
func Check(rec *Record) Verdict {
	v := Verdict{Rooms: len(rec.Rooms), Counts: map[string]int{}}
	for _, r := range rec.Rooms {
		checkRoom(rec, r, &v)
	}
	checkReminders(rec, &v)
	for _, x := range v.Violations {
		v.Counts[x.Kind]++
	}
	sort.SliceStable(v.Violations, func(i, j int) bool { return v.Violations[i].At.Before(v.Violations[j].At) })
	return v
}

func checkRoom(rec *Record, r *Room, v *Verdict) {
	sends := map[string]*Send{}
	for _, p := range r.Participants() {
		for id, s := range p.Sends {
			sends[id] = s
			v.Sent++
			if s.Acked {
				v.Acked++
			} else {
				v.Unacked++
			}
		}
	}
	order := map[string]string{} // epoch/seq -> key, as the first participant saw it
	for _, p := range r.Participants() {
		v.Deliveries += len(p.Deliveries)
		checkOnce(r, p, sends, v)
		checkOrder(r, p, order, v)
		checkSeq(r, p, v)
	}
	checkPresence(rec, r, v)
}

// checkOnce: every acknowledged message reached the participant exactly
// once; an unacknowledged one at most once; nothing that was never sent.
func checkOnce(r *Room, p *Participant, sends map[string]*Send, v *Verdict) {
	count := map[string]int{}
	at := map[string]Delivery{}
	for _, d := range p.Deliveries {
		id, ok := strings.CutPrefix(d.Key, "m:")
		if !ok {
			continue
		}
		count[id]++
		at[id] = d
		if sends[id] == nil && count[id] == 1 {
			v.add(Violation{Kind: Phantom, Room: r.ID, Role: p.Role, Seq: d.Seq, Key: d.Key, At: d.At, Detail: "never sent"})
		}
	}
	for id, s := range sends {
		switch n := count[id]; {
		case n > 1:
			v.add(Violation{Kind: Duplicated, Room: r.ID, Role: p.Role, Seq: at[id].Seq, Key: "m:" + id, At: at[id].At,
				Detail: fmt.Sprintf("delivered %d times (acknowledged: %v)", n, s.Acked)})
		case n == 0 && s.Acked:
			v.add(Violation{Kind: Lost, Room: r.ID, Role: p.Role, Seq: s.AckSeq, Key: "m:" + id, At: s.AckAt,
				Detail: "acknowledged, never delivered"})
		}
	}
}

// checkOrder: at each epoch and seq every participant saw the same event.
func checkOrder(r *Room, p *Participant, order map[string]string, v *Verdict) {
	for _, d := range p.Deliveries {
		k := fmt.Sprintf("%s/%d", d.Epoch, d.Seq)
		if prev, ok := order[k]; !ok {
			order[k] = d.Key
		} else if prev != d.Key {
			v.add(Violation{Kind: Reordered, Room: r.ID, Role: p.Role, Seq: d.Seq, Key: d.Key, At: d.At,
				Detail: fmt.Sprintf("%s here, %s for another participant", d.Key, prev)})
		}
	}
}

// checkSeq walks a participant's joins and deliveries in arrival order:
// after a join, events continue one past its since (or past its seq when
// it did not recover), one by one, and an epoch change is announced as
// recovered:false.
func checkSeq(r *Room, p *Participant, v *Verdict) {
	joins, epoch := p.Joins, ""
	var next int64
	j := 0
	for _, d := range p.Deliveries {
		for ; j < len(joins) && joins[j].N < d.N; j++ {
			next, epoch = startAfter(r, p, joins[j], epoch, v)
		}
		switch {
		case d.Epoch != epoch:
			v.add(Violation{Kind: Epoch, Room: r.ID, Role: p.Role, Seq: d.Seq, At: d.At,
				Detail: fmt.Sprintf("an event of epoch %q after joining %q", d.Epoch, epoch)})
			epoch, next = d.Epoch, d.Seq+1
		case d.Seq == next:
			next++
		case d.Seq > next:
			v.add(Violation{Kind: Gap, Room: r.ID, Role: p.Role, Seq: d.Seq, At: d.At,
				Detail: fmt.Sprintf("seq %d after %d", d.Seq, next-1)})
			next = d.Seq + 1
		default:
			v.add(Violation{Kind: Duplicated, Room: r.ID, Role: p.Role, Seq: d.Seq, Key: d.Key, At: d.At,
				Detail: fmt.Sprintf("seq %d again (expected %d)", d.Seq, next)})
		}
	}
	for ; j < len(joins); j++ {
		_, epoch = startAfter(r, p, joins[j], epoch, v)
	}
}

// startAfter is where a join leaves a participant: the next seq it must
// get, and its epoch. A new epoch must come as recovered:false.
func startAfter(r *Room, p *Participant, jn Join, epoch string, v *Verdict) (int64, string) {
	recovered := jn.Recovered != nil && *jn.Recovered
	if epoch != "" && jn.Epoch != epoch {
		v.EpochChanges++
		if recovered {
			v.add(Violation{Kind: Epoch, Room: r.ID, Role: p.Role, Seq: jn.Seq, At: jn.At,
				Detail: fmt.Sprintf("epoch %q → %q reported as recovered", epoch, jn.Epoch)})
		}
	}
	if recovered && jn.Since >= 0 {
		return jn.Since + 1, jn.Epoch
	}
	return jn.Seq + 1, jn.Epoch
}

// checkPresence: the agent is told the customer is offline only when the
// customer was away for longer than the grace, and is told within the
// presence TTL and the grace after the customer really left.
func checkPresence(rec *Record, r *Room, v *Verdict) {
	for _, t := range r.Agent.Offline {
		v.Offline++
		if !awayLongEnough(r.Customer.Down, t, rec.Grace) {
			v.add(Violation{Kind: Flap, Room: r.ID, Role: "agent", At: t, Detail: "customer shown offline while present"})
		}
	}
	for _, f := range rec.Faults {
		if f.Kind != "away" || f.Room != r.ID || !agentStayed(r.Agent, f.From, f.To) {
			continue
		}
		if !shownOffline(r.Agent.Offline, f.From, f.From.Add(rec.TTL+rec.Grace+presenceMargin)) {
			v.add(Violation{Kind: Ghost, Room: r.ID, Role: "agent", At: f.From,
				Detail: fmt.Sprintf("customer left at +%s and was not shown offline within %s (%s)",
					f.From.Sub(rec.Start).Round(time.Millisecond), rec.TTL+rec.Grace+presenceMargin, shownLater(r.Agent.Offline, f.From))})
		}
	}
}

// awayLongEnough: t falls in a time the customer had no connection, at
// least the grace after it began.
func awayLongEnough(down []Interval, t time.Time, grace time.Duration) bool {
	for _, iv := range down {
		end := iv.To
		if end.IsZero() {
			end = t.Add(presenceMargin)
		}
		if !t.Before(iv.From.Add(grace-presenceMargin)) && !t.After(end.Add(presenceMargin)) &&
			end.Sub(iv.From) >= grace-presenceMargin {
			return true
		}
	}
	return false
}

// agentStayed: the agent was connected from a to b (a ghost is judged
// only where the agent could have been told).
func agentStayed(p *Participant, a, b time.Time) bool {
	for _, iv := range p.Down {
		end := iv.To
		if end.IsZero() {
			end = b
		}
		if iv.From.Before(b) && end.After(a) {
			return false
		}
	}
	return true
}

// shownLater says when the customer was first shown offline after a,
// for a ghost's report.
func shownLater(offline []time.Time, a time.Time) string {
	for _, t := range offline {
		if t.After(a) {
			return fmt.Sprintf("shown offline %s after leaving", t.Sub(a).Round(time.Millisecond))
		}
	}
	return "never shown offline"
}

func shownOffline(offline []time.Time, a, b time.Time) bool {
	for _, t := range offline {
		if !t.Before(a) && !t.After(b) {
			return true
		}
	}
	return false
}

func (v *Verdict) add(x Violation) { v.Violations = append(v.Violations, x) }

// Report writes the verdict with its counts and the first violations,
// each with the faults around it.
func Report(rec *Record, v Verdict, first int) string {
	var b strings.Builder
	status := "CLEAN"
	if !v.Clean() {
		status = "VIOLATIONS"
	}
	fmt.Fprintf(&b, "verdict: %s\n", status)
	fmt.Fprintf(&b, "rooms %d, sent %d (acknowledged %d, unacknowledged %d), deliveries %d, epoch changes %d, offline shown %d, faults %d, %s\n",
		v.Rooms, v.Sent, v.Acked, v.Unacked, v.Deliveries, v.EpochChanges, v.Offline, len(rec.Faults), rec.End.Sub(rec.Start).Round(time.Second))
	if len(rec.Reminded) > 0 {
		fmt.Fprintf(&b, "reminder sessions %d, reminders sent %d (every %s, at most %d each)\n", len(rec.Reminded), v.Reminders, rec.ReminderEvery, reminderMax)
	}
	kinds := []string{Lost, Duplicated, Reordered, Gap, Phantom, Epoch, Flap, Ghost}
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %-10s %d\n", k, v.Counts[k])
	}
	for i, x := range v.Violations {
		if i == first {
			fmt.Fprintf(&b, "… and %d more\n", len(v.Violations)-first)
			break
		}
		fmt.Fprintf(&b, "%s at +%s: room %s, %s, seq %d %s: %s\n", x.Kind, x.At.Sub(rec.Start).Round(time.Millisecond),
			x.Room, x.Role, x.Seq, x.Key, x.Detail)
		for _, f := range rec.Faults {
			if f.To.After(x.At.Add(-10*time.Second)) && f.From.Before(x.At.Add(5*time.Second)) {
				fmt.Fprintf(&b, "    around it: %s %s from +%s to +%s\n", f.Kind, f.Target,
					f.From.Sub(rec.Start).Round(time.Millisecond), f.To.Sub(rec.Start).Round(time.Millisecond))
			}
		}
	}
	return b.String()
}
