package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/storetest"
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
	st := New(rdb, "w:", Options{MinReplicas: 1, ReplicaWait: 2 * time.Second})
	short := New(rdb, "w:", Options{MinReplicas: 1, ReplicaWait: 300 * time.Millisecond})
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	storetest.Commit(t, st, storetest.NewSession("s_1", "a_1", "t_1", t0), []rooms.Event{{Type: rooms.EventMessage, At: t0, Text: "one"}}, 0)
	m := storetest.Message("agent", "two", t0)
	m.Opts.Once = "agent:c-2"
	got, err := st.Append(ctx, "s_1", m)
	storetest.Must(t, err)
	if n, err := rep.Get(ctx, "w:{s_1}:seq").Int64(); err != nil || n != got.Event.Seq {
		t.Fatalf("the replica holds seq %d (%v) when the append of %d returned", n, err, got.Event.Seq)
	}

	replica.Freeze(t)
	m3 := storetest.Message("agent", "three", t0)
	m3.Opts.Once = "agent:c-3"
	start := time.Now()
	if _, err := short.Append(ctx, "s_1", m3); !errors.Is(err, rooms.ErrUnavailable) {
		t.Fatalf("append with a stalled replica: %v, want unavailable", err)
	}
	t.Logf("an append no replica confirmed failed after %s", time.Since(start).Round(time.Millisecond))

	replica.Thaw(t)
	again, err := st.Append(ctx, "s_1", m3)
	var dup *rooms.DuplicateError
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
	alone := storetest.Message("agent", "alone", t0)
	alone.Opts.Once = "agent:c-alone"
	for {
		_, err := st.Append(ctx, "s_1", alone)
		if err == nil || errors.As(err, &dup) {
			break
		}
		if !errors.Is(err, rooms.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("append with no replica online: %v", err)
		}
	}
}
