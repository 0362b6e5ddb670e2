package notify_test

import (
	"testing"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/notify/outboxtest"
)

func TestOutboxMemory(t *testing.T) {
	outboxtest.Run(t, func(max int) notify.Outbox { return notify.NewMemoryOutbox(max) })
}

func TestOutboxRedis(t *testing.T) {
	outboxtest.Run(t, func(max int) notify.Outbox {
		rdb, prefix := redistest.Client(t)
		return notify.NewRedisOutbox(rdb, prefix, max)
	})
}
