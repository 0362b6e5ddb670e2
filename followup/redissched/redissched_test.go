package redissched_test

import (
	"testing"

	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/followup/redissched"
	"github.com/cohub/cohub/followup/schedtest"
	"github.com/cohub/cohub/internal/redistest"
)

func TestContract(t *testing.T) {
	schedtest.Run(t, func(t *testing.T) followup.Schedule {
		rdb, prefix := redistest.Client(t)
		return redissched.New(rdb, prefix)
	})
}
