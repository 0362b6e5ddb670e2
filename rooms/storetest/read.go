package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

// contractRead: a reader's horizon only rises, never past the log's
// end, is kept per reader, and racing raises leave the highest.
func contractRead(t *testing.T, st rooms.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	evs := make([]rooms.Event, 5)
	for i := range evs {
		evs[i] = rooms.Event{Type: rooms.EventMessage, At: now, Text: "m"}
	}
	Commit(t, st, NewSession("s_r", "a_1", "t_1", now), evs, 0)
	raise := func(reader string, seq, want int64, wantRaised bool) {
		t.Helper()
		got, raised, err := st.RaiseHorizon(ctx, "s_r", reader, seq)
		Must(t, err)
		if got != want || raised != wantRaised {
			t.Fatalf("RaiseHorizon(%s, %d) = %d %v, want %d %v", reader, seq, got, raised, want, wantRaised)
		}
	}
	raise(rooms.ReaderCustomer, 3, 3, true)
	raise(rooms.ReaderCustomer, 2, 3, false) // never down
	raise(rooms.ReaderCustomer, 3, 3, false) // not above
	raise(rooms.ReaderCustomer, 6, 3, false) // past the log's end
	raise(rooms.ReaderCustomer, 5, 5, true)
	raise(rooms.ReaderAgent("a_1"), 2, 2, true) // a reader of its own
	raise(rooms.ReaderAgent("a_2"), 1, 1, true)
	_, raised, err := st.RaiseHorizon(ctx, "s_none", rooms.ReaderCustomer, 1)
	Must(t, err)
	if raised {
		t.Fatal("a session without a log took a horizon")
	}

	var wg sync.WaitGroup
	for seq := int64(1); seq <= 5; seq++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := st.RaiseHorizon(ctx, "s_r", rooms.ReaderAgent("a_3"), seq)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	got, err := st.Horizons(ctx, []string{"s_r", "s_none"})
	Must(t, err)
	want := map[string]int64{rooms.ReaderCustomer: 5, rooms.ReaderAgent("a_1"): 2, rooms.ReaderAgent("a_2"): 1, rooms.ReaderAgent("a_3"): 5}
	if len(got) != 1 || len(got["s_r"]) != len(want) {
		t.Fatalf("Horizons = %v, want s_r: %v", got, want)
	}
	for reader, seq := range want {
		if got["s_r"][reader] != seq {
			t.Fatalf("Horizons[s_r][%s] = %d, want %d", reader, got["s_r"][reader], seq)
		}
	}
}
