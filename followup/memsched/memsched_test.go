package memsched_test

import (
	"testing"

	"github.com/cohub/cohub/followup"
	"github.com/cohub/cohub/followup/memsched"
	"github.com/cohub/cohub/followup/schedtest"
)

func TestContract(t *testing.T) {
	schedtest.Run(t, func(t *testing.T) followup.Schedule { return memsched.New() })
}
