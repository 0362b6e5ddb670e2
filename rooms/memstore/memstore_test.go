package memstore_test

import (
	"testing"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
	"github.com/cohub/cohub/rooms/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) rooms.Store { return memstore.New(nil) })
}

func TestAssets(t *testing.T) { storetest.Assets(t, memstore.New(nil)) }

func TestRebaseLog(t *testing.T) { storetest.Rebase(t, memstore.New(nil)) }

func TestRewriteLog(t *testing.T) { storetest.Rewrite(t, memstore.New(nil)) }
