package redisqueue_test

import (
	"testing"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/queuetest"
	"github.com/cohub/cohub/webhooks/redisqueue"
)

func TestContract(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) webhooks.Store {
		rdb, prefix := redistest.Client(t)
		return redisqueue.New(rdb, prefix)
	})
}
