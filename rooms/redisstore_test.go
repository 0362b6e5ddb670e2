package rooms

import (
	"testing"

	"github.com/cohub/cohub/internal/redistest"
)

func TestRedisStore(t *testing.T) {
	storeContract(t, func(t *testing.T) Store {
		rdb, prefix := redistest.Client(t)
		return NewRedisStore(rdb, prefix, RedisOptions{})
	})
}
