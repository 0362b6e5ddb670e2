package memqueue_test

import (
	"testing"

	"github.com/cohub/cohub/webhooks"
	"github.com/cohub/cohub/webhooks/memqueue"
	"github.com/cohub/cohub/webhooks/queuetest"
)

func TestContract(t *testing.T) {
	queuetest.Run(t, func(*testing.T) webhooks.Store { return memqueue.New() })
}
