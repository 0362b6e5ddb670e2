package rooms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redistest"
)

// With MinReplicas, a commit is acknowledged only once a replica holds
// it (WAIT): a replica reads it the moment the commit returns; with the
// replica stalled a commit fails as unavailable, and its retry under the
// same name, once the replica is back, answers with the first seq.
func TestCommitWaitsForReplica(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	rdb := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer rdb.Close()
	rep := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer rep.Close()
	// A loaded machine may take a while to schedule the replica: 2 s for
	// commits that must pass, 300 ms for the one that must not.
	st := NewRedisStore(rdb, "w:", RedisOptions{MinReplicas: 1, ReplicaWait: 2 * time.Second})
	short := NewRedisStore(rdb, "w:", RedisOptions{MinReplicas: 1, ReplicaWait: 300 * time.Millisecond})
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	commit(t, st, newTestSession("s_1", "a_1", "t_1", t0), []Event{{Type: EventMessage, At: t0, Text: "one"}}, 0)
	m := message("agent", "two", t0)
	m.Opts.Once = "agent:c-2"
	got, err := st.Append(ctx, "s_1", m)
	must(t, err)
	if n, err := rep.Get(ctx, "w:{s_1}:seq").Int64(); err != nil || n != got.Event.Seq {
		t.Fatalf("the replica holds seq %d (%v) when the append of %d returned", n, err, got.Event.Seq)
	}

	replica.Freeze(t)
	m3 := message("agent", "three", t0)
	m3.Opts.Once = "agent:c-3"
	start := time.Now()
	if _, err := short.Append(ctx, "s_1", m3); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append with a stalled replica: %v, want unavailable", err)
	}
	t.Logf("an append no replica confirmed failed after %s", time.Since(start).Round(time.Millisecond))

	replica.Thaw(t)
	again, err := st.Append(ctx, "s_1", m3)
	var dup *DuplicateError
	if !errors.As(err, &dup) || again.Event.Seq != got.Event.Seq+1 {
		t.Fatalf("retry: %+v %v, want the first's seq %d once", again, err, got.Event.Seq+1)
	}
	if n, _ := rep.Get(ctx, "w:{s_1}:seq").Int64(); n != again.Event.Seq {
		t.Fatalf("the replica holds seq %d after the retry, want %d", n, again.Event.Seq)
	}

	// With its replica gone, a master's commits go on: once it counts no
	// replica online, they do not wait.
	replica.Stop()
	deadline := time.Now().Add(20 * time.Second)
	alone := message("agent", "alone", t0)
	alone.Opts.Once = "agent:c-alone"
	for {
		_, err := st.Append(ctx, "s_1", alone)
		if err == nil || errors.As(err, &dup) {
			break
		}
		if !errors.Is(err, ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("append with no replica online: %v", err)
		}
	}
}

// A log ahead of which a caller delivered begins a new epoch once: the
// first caller's; numbers then go on from the log's end under it.
func TestRebaseLog(t *testing.T) {
	for name, newStore := range map[string]func(t *testing.T) interface {
		Store
		LogRebaser
	}{
		"memory": func(*testing.T) interface {
			Store
			LogRebaser
		} {
			return NewMemStore()
		},
		"redis": func(t *testing.T) interface {
			Store
			LogRebaser
		} {
			rdb, prefix := redistest.Client(t)
			return NewRedisStore(rdb, prefix, RedisOptions{})
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := newStore(t)
			ctx := context.Background()
			t0 := time.Now().UTC()
			s := newTestSession("s_1", "a_1", "t_1", t0)
			commit(t, st, s, []Event{{Type: EventMessage, Text: "1"}, {Type: EventMessage, Text: "2"}, {Type: EventMessage, Text: "3"}}, 0)
			_, epoch, err := st.LastSeq(ctx, "s_1")
			must(t, err)
			if pos, err := st.RebaseLog(ctx, "s_1", epoch, 3); err != nil || pos != (LogPosition{Seq: 3, Epoch: epoch}) {
				t.Fatalf("a caller not ahead: %+v %v", pos, err)
			}
			pos, err := st.RebaseLog(ctx, "s_1", epoch, 5)
			must(t, err)
			if pos.Seq != 3 || pos.Epoch == epoch || pos.Epoch == "" {
				t.Fatalf("a caller ahead: %+v (epoch was %q)", pos, epoch)
			}
			if other, err := st.RebaseLog(ctx, "s_1", epoch, 5); err != nil || other != pos {
				t.Fatalf("a second caller: %+v %v, want the first's %+v", other, err, pos)
			}
			evs, err := st.Commit(ctx, s, []Event{{Type: EventMessage, Text: "4"}}, CommitOptions{})
			must(t, err)
			seq, now, err := st.LastSeq(ctx, "s_1")
			must(t, err)
			if evs[0].Seq != 4 || seq != 4 || now != pos.Epoch {
				t.Fatalf("after: event %d, log %d %q, want 4 under %q", evs[0].Seq, seq, now, pos.Epoch)
			}
			if pos, err := st.RebaseLog(ctx, "s_none", "", 2); err != nil || pos.Epoch == "" || pos.Seq != 0 {
				t.Fatalf("a log gone whole: %+v %v", pos, err)
			}
		})
	}
}
