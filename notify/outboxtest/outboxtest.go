// Package outboxtest is the one contract every notify.Outbox meets: the
// memory, Redis and embedded-disk outboxes run it.
package outboxtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/cohub/cohub/notify"
)

// Run checks an outbox that keeps max messages, made by newOutbox.
func Run(t *testing.T, newOutbox func(max int) notify.Outbox) {
	ctx := context.Background()
	o := newOutbox(3)
	if got, err := o.List(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty outbox lists %v %v", got, err)
	}
	for i := range 5 {
		if err := o.Send(ctx, notify.Message{Channel: "email", To: fmt.Sprintf("c%d@example.com", i), Body: "b", SessionID: "s_1"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := o.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].To != "c4@example.com" || got[2].To != "c2@example.com" {
		t.Fatalf("outbox keeps %+v, want the newest 3, newest first", got)
	}
	if got[0].At.IsZero() || got[0].SessionID != "s_1" || got[0].Channel != "email" {
		t.Fatalf("stored message = %+v", got[0])
	}
	if got, _ := o.List(ctx, 1); len(got) != 1 || got[0].To != "c4@example.com" {
		t.Fatalf("limit 1 = %+v", got)
	}
}
