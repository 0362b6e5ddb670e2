// Package schedtest is the one contract every follow-up schedule engine
// keeps: memory, the embedded file and Redis run it alike.
package schedtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/followup"
)

// lease is the suite's claim lease.
const lease = time.Minute

// t0 is the suite's clock start, whole milliseconds as the engines keep.
var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// Run runs the contract against fresh schedules from open.
func Run(t *testing.T, open func(t *testing.T) followup.Schedule) {
	cases := map[string]func(t *testing.T, s followup.Schedule){
		"due only when due":              dueOnlyWhenDue,
		"sooner keeps the earlier":       soonerKeepsEarlier,
		"a claim hides it for a lease":   claimHides,
		"finish sets next or removes":    finishSetsNext,
		"asked during a claim stays":     askedDuringClaim,
		"a stale finish changes nothing": staleFinish,
		"earliest first, at most max":    earliestFirst,
		"concurrent claims take once":    concurrentClaims,
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) { fn(t, open(t)) })
	}
}

func ids(cs []followup.Claim) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.SessionID
	}
	return out
}

// claim claims at now and fails the test on an error.
func claim(t *testing.T, s followup.Schedule, now time.Time, max int) []followup.Claim {
	t.Helper()
	cs, err := s.Claim(context.Background(), now, lease, max)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return cs
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func dueOnlyWhenDue(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	must(t, s.Sooner(ctx, "s1", t0.Add(time.Second)))
	if cs := claim(t, s, t0, 10); len(cs) != 0 {
		t.Fatalf("claimed %v before it was due", ids(cs))
	}
	cs := claim(t, s, t0.Add(time.Second), 10)
	if len(cs) != 1 || cs[0].SessionID != "s1" || cs[0].Token == "" {
		t.Fatalf("at its time: claimed %+v, want s1 with a token", cs)
	}
	if want := t0.Add(time.Second + lease); !cs[0].Until.Equal(want) {
		t.Errorf("lease until %v, want %v", cs[0].Until, want)
	}
}

func soonerKeepsEarlier(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	must(t, s.Sooner(ctx, "s1", t0.Add(10*time.Second)))
	must(t, s.Sooner(ctx, "s1", t0.Add(5*time.Second)))
	must(t, s.Sooner(ctx, "s1", t0.Add(20*time.Second)))
	if cs := claim(t, s, t0.Add(5*time.Second-time.Millisecond), 10); len(cs) != 0 {
		t.Fatalf("claimed before the earliest time: %v", ids(cs))
	}
	if cs := claim(t, s, t0.Add(5*time.Second), 10); len(cs) != 1 {
		t.Fatalf("at the earliest time asked: claimed %v, want s1", ids(cs))
	}
}

func claimHides(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	must(t, s.Sooner(ctx, "s1", t0))
	first := claim(t, s, t0, 10)
	if len(first) != 1 {
		t.Fatalf("claimed %v, want s1", ids(first))
	}
	if cs := claim(t, s, t0.Add(lease-time.Millisecond), 10); len(cs) != 0 {
		t.Fatalf("claimed again within the lease: %v", ids(cs))
	}
	again := claim(t, s, t0.Add(lease), 10)
	if len(again) != 1 || again[0].Token == first[0].Token {
		t.Fatalf("after the lease: claimed %+v, want s1 under a new token", again)
	}
}

func finishSetsNext(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	must(t, s.Sooner(ctx, "s1", t0))
	must(t, s.Sooner(ctx, "s2", t0))
	cs := claim(t, s, t0, 10)
	if len(cs) != 2 {
		t.Fatalf("claimed %v, want both", ids(cs))
	}
	next := t0.Add(3 * time.Hour)
	for _, c := range cs {
		at := time.Time{}
		if c.SessionID == "s1" {
			at = next
		}
		must(t, s.Finish(ctx, c, at))
	}
	if cs := claim(t, s, next.Add(-time.Millisecond), 10); len(cs) != 0 {
		t.Fatalf("due before next: %v", ids(cs))
	}
	got := claim(t, s, next.Add(24*time.Hour), 10)
	if len(got) != 1 || got[0].SessionID != "s1" {
		t.Fatalf("after next: claimed %v, want only s1 (s2 finished with nothing next)", ids(got))
	}
}

// A wake may read the session before what asked for a later time: the
// schedule must not drop that ask when the wake finishes with nothing.
func askedDuringClaim(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	must(t, s.Sooner(ctx, "s1", t0))
	cs := claim(t, s, t0, 10)
	must(t, s.Sooner(ctx, "s1", t0.Add(2*lease)))
	must(t, s.Finish(ctx, cs[0], time.Time{}))
	got := claim(t, s, t0.Add(lease), 10)
	if len(got) != 1 {
		t.Fatal("an ask made during the claim was dropped by its finish")
	}
	// One made before the lease's end wins over the finish's later next.
	must(t, s.Sooner(ctx, "s1", t0.Add(lease+time.Second)))
	must(t, s.Finish(ctx, got[0], t0.Add(10*lease)))
	if cs := claim(t, s, t0.Add(lease+time.Second), 10); len(cs) != 1 {
		t.Fatal("an earlier ask made during the claim was put off to the finish's next")
	}
}

func staleFinish(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	must(t, s.Sooner(ctx, "s1", t0))
	old := claim(t, s, t0, 10)
	cur := claim(t, s, t0.Add(lease), 10)
	if len(old) != 1 || len(cur) != 1 {
		t.Fatal("setup: claims")
	}
	must(t, s.Finish(ctx, old[0], time.Time{}))
	must(t, s.Finish(ctx, cur[0], t0.Add(5*lease)))
	if cs := claim(t, s, t0.Add(5*lease), 10); len(cs) != 1 {
		t.Fatal("a finish after the lease passed to another claim removed the session")
	}
}

func earliestFirst(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	for i := 5; i >= 1; i-- {
		must(t, s.Sooner(ctx, fmt.Sprintf("s%d", i), t0.Add(time.Duration(i)*time.Second)))
	}
	cs := claim(t, s, t0.Add(time.Minute), 3)
	if got := fmt.Sprint(ids(cs)); got != "[s1 s2 s3]" {
		t.Fatalf("claimed %s, want [s1 s2 s3]", got)
	}
	if rest := claim(t, s, t0.Add(time.Minute), 10); fmt.Sprint(ids(rest)) != "[s4 s5]" {
		t.Fatalf("then claimed %v, want [s4 s5]", ids(rest))
	}
}

func concurrentClaims(t *testing.T, s followup.Schedule) {
	ctx := context.Background()
	const n = 40
	for i := range n {
		must(t, s.Sooner(ctx, fmt.Sprintf("s%d", i), t0))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range n {
				cs, err := s.Claim(ctx, t0, lease, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, c := range cs {
					seen[c.SessionID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d sessions claimed, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s claimed %d times within one lease", id, k)
		}
	}
}
