package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/cohub/cohub/internal/testclock"

	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/rooms"
)

// A session's log verifies: every event's digest matches its content and
// the chain's head is stable. One event edited in Redis by hand is found
// by its seq, and the rest of the walk still counts every event.
func TestVerifyFindsAnEditedEvent(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	e := &env{t: t, backend: "redis", clock: testclock.New(e0()), agents: map[string]*rooms.Agent{}, tokens: map[string]string{}}
	set := app.RedisBackend(rdb, app.RedisBackendOptions{Prefix: prefix})
	e.store, e.outbox = set.Store, set.Outbox
	e.start()
	e.seed()
	s := e.startSession("alex", "chain@example.com")
	for _, text := range []string{"first", "second", "third"} {
		_, err := e.svc.Sessions.PostMessage(ctx, s.ID, rooms.Message{
			From: rooms.Actor{Role: "agent", ID: e.agents["alex"].ID, Name: "Alex"}, Text: text, AgentsHere: true})
		e.must(err)
	}
	var v, again rooms.Verified
	e.do("GET", "/api/sessions/"+s.ID+"/verify", "alex", nil).want(200).into(&v)
	e.do("GET", "/api/sessions/"+s.ID+"/verify", "alex", nil).want(200).into(&again)
	if !v.OK || v.Events < 3 || len(v.Head) != 64 || again != v {
		t.Fatalf("verify: %+v, then %+v", v, again)
	}

	key := prefix + "{" + s.ID + "}:log"
	msgs, err := rdb.XRange(ctx, key, "-", "+").Result()
	e.must(err)
	e.must(rdb.Del(ctx, key).Err())
	edited := ""
	for _, m := range msgs {
		body := m.Values["e"].(string)
		if strings.Contains(body, `"text":"second"`) {
			body, edited = strings.Replace(body, `"text":"second"`, `"text":"2nd, as edited"`, 1), m.ID
		}
		e.must(rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: m.ID, Values: map[string]any{"e": body}}).Err())
	}
	if edited == "" {
		t.Fatal("no event to edit")
	}
	var bad rooms.Verified
	e.do("GET", "/api/sessions/"+s.ID+"/verify", "alex", nil).want(200).into(&bad)
	// The chain links the digests logged, which the edit left alone: its
	// head stands, and the edited content no longer matches its digest.
	if bad.OK || bad.Events != v.Events || edited != strconv.FormatInt(bad.FirstBadSeq, 10)+"-0" || bad.Head != v.Head {
		t.Fatalf("after editing %s: %+v", edited, bad)
	}
}
