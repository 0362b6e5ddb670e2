// Command killwriter is the process TestKillNine kills: it appends chat
// messages to the store at its argument's path from several writers at
// once (so group commits are under way when the kill lands) and prints
// each acknowledged one as "seq text", until it is killed. It is built
// without the race detector, whose start-up would dominate 50 kills.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/boltstore"
)

func main() {
	st, err := boltstore.Open(os.Args[1], boltstore.Options{LockWait: 5 * time.Second})
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	now := time.Now().UTC()
	s := &rooms.Session{ID: "s_kill", AgentID: "a_1", TeamID: "t_1", State: rooms.StateActive, CreatedAt: now, UpdatedAt: now}
	_, _ = st.Commit(ctx, s, nil, rooms.CommitOptions{}) // a conflict when an earlier run made it
	var mu sync.Mutex
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for w := range 8 {
		go func() {
			from := &rooms.Actor{Role: "agent", ID: "a_1"}
			for i := 0; ; i++ {
				text := fmt.Sprintf("%s-%d-%d", run, w, i)
				a, err := st.Append(ctx, "s_kill", rooms.MessageAppend{
					Event: rooms.Event{Type: rooms.EventMessage, At: time.Now(), From: from, Text: text}, Now: time.Now()})
				if err != nil {
					fail(err)
				}
				mu.Lock()
				fmt.Printf("%d %s\n", a.Event.Seq, text)
				mu.Unlock()
			}
		}()
	}
	select {}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "killwriter:", err)
	os.Exit(1)
}
