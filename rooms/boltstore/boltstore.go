// Package boltstore is the durable embedded store: every role of
// rooms.Store, rooms.AssetStore, rooms.LogRebaser and rooms.LogRewriter,
// and the invitation outbox, in one bbolt file on this node's disk. It
// keeps the memory store's semantics (rooms/storetest holds all engines
// to one contract) and adds durability: a change is acknowledged only
// after the transaction that holds it is fsync'd. Concurrent writers
// share transactions (group commit), so many chat messages cost one
// fsync.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
)

// Top-level buckets (DESIGN.md §2, "The embedded store").
var (
	bAgents   = []byte("agents")   // id → agent record
	bEmails   = []byte("emails")   // lower-case email → id
	bTeams    = []byte("teams")    // id → team
	bMeta     = []byte("meta")     // "settings" → org settings
	bTokens   = []byte("tokens")   // hash → token and its end
	bHits     = []byte("hits")     // key → count and window end
	bOnce     = []byte("once")     // name → taken
	bSessions = []byte("sessions") // id → session record
	bLogs     = []byte("logs")     // id → the room log's bucket
	bIdx      = []byte("idx")      // index name → score+id → nothing
	bIdxPos   = []byte("idxpos")   // index name → id → score
	bIdle     = []byte("idle")     // id → last agent activity, ms
	bAssets   = []byte("assets")   // session id → asset id → record
	bAssetSes = []byte("assetses") // session id → nothing: keeps blobs
	bOutbox   = []byte("outbox")   // sequence → invitation
	bKeys     = []byte("apikeys")  // id → API key record
	bKeyHash  = []byte("apikeyh")  // key hash → id
	bRead     = []byte("read")     // session id, 0, reader → horizon
)

var topBuckets = [][]byte{bAgents, bEmails, bTeams, bMeta, bTokens, bHits, bOnce, bSessions, bLogs,
	bIdx, bIdxPos, bIdle, bAssets, bAssetSes, bOutbox, bKeys, bKeyHash, bRead}

// ErrLocked says another process holds the database file.
var ErrLocked = errors.New("the database is in use by another process")

// ErrClosed says the store was closed.
var ErrClosed = errors.New("boltstore: closed")

// Store is the durable embedded backend.
type Store struct {
	// Tickets keeps the WebSocket's tickets in memory: one lives 30 s,
	// and a page asks again for one a restart lost.
	memstore.Tickets

	db      *bolt.DB
	ops     chan *op
	stop    chan struct{}
	done    sync.WaitGroup
	publish func(sessionID string, events []rooms.Event)
	// outboxMax is how many invitations the outbox keeps.
	outboxMax uint64
}

var (
	_ rooms.Store       = (*Store)(nil)
	_ rooms.AssetStore  = (*Store)(nil)
	_ rooms.LogRebaser  = (*Store)(nil)
	_ rooms.LogRewriter = (*Store)(nil)
)

// Options configure Open.
type Options struct {
	// Publish, when set, receives each commit's events in seq order once
	// they are on disk, as the memory store's publish; it must not block.
	Publish func(sessionID string, events []rooms.Event)
	// LockWait is how long Open waits for another process to let go of
	// the file. Zero value: 100 ms.
	LockWait time.Duration
	// OutboxSize is how many invitations the outbox keeps. Zero value: 1000.
	OutboxSize int
}

// Open opens (creating when missing, with owner-only permissions) the
// database file at path. Only one process may hold it: another's Open
// fails with ErrLocked.
func Open(path string, o Options) (*Store, error) {
	if o.LockWait <= 0 {
		o.LockWait = 100 * time.Millisecond
	}
	if o.OutboxSize <= 0 {
		o.OutboxSize = 1000
	}
	// The freelist is rebuilt at open rather than written at every
	// commit: commits stay small however large the file grows.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockWait, NoFreelistSync: true,
		FreelistType: bolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = ensureBuckets(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, ops: make(chan *op), stop: make(chan struct{}), publish: o.Publish,
		outboxMax: uint64(o.OutboxSize)}
	s.done.Add(2)
	go s.writer()
	go s.sweeper()
	return s, nil
}

// ensureBuckets creates the top-level buckets of a new file; an
// existing file costs no write (and no fsync) at open.
func ensureBuckets(db *bolt.DB) error {
	missing := false
	_ = db.View(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			missing = missing || tx.Bucket(name) == nil
		}
		return nil
	})
	if !missing {
		return nil
	}
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close waits for the writes under way and closes the file.
func (s *Store) Close() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	s.done.Wait()
	return s.db.Close()
}

// DB is the bbolt database under the store, for packages that keep
// buckets of their own in the same file (webhooks/boltqueue), so that a
// Snapshot, and so a backup, holds them too. They must leave the
// store's buckets alone.
func (s *Store) DB() *bolt.DB { return s.db }

// Path is the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// Ping fails once the store is closed.
func (s *Store) Ping(context.Context) error {
	select {
	case <-s.stop:
		return ErrClosed
	default:
		return nil
	}
}

// op is one writer's transaction body, and where its outcome goes.
type op struct {
	fn   func(tx *bolt.Tx) error
	done chan error
}

// update runs fn in a read-write transaction and returns once that
// transaction is on disk. Writers that arrive while one commits share
// the next transaction and its fsync (group commit). fn may run more
// than once (when another body of its batch fails, the batch is rolled
// back and run again without it), so it must set what it returns anew
// each time, and return an error before it writes anything it would
// keep.
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-s.stop:
		return ErrClosed
	}
	return <-o.done
}

// maxBatch bounds one group commit.
const maxBatch = 256

func (s *Store) writer() {
	defer s.done.Done()
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.stop:
			return
		}
		batch := []*op{first}
	more:
		for len(batch) < maxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break more
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction. A body that fails gets its
// error; the rest run again without it, in the same order, so each sees
// what it would have seen alone in that order.
func (s *Store) commit(batch []*op) {
	for len(batch) > 0 {
		failed, ferr := -1, error(nil)
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, o := range batch {
				if err := o.fn(tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, o := range batch {
				o.done <- err
			}
			return
		}
		batch[failed].done <- ferr
		batch = slices.Delete(batch, failed, failed+1)
	}
}

// sweepEvery paces the removal of expired tokens and counters.
const sweepEvery = 10 * time.Minute

func (s *Store) sweeper() {
	defer s.done.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		s.sweep(time.Now())
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
	}
}

// sweep deletes the tokens and counters whose time has passed: reads
// already ignore them, this keeps the file from growing with them.
func (s *Store) sweep(now time.Time) {
	var stale [2][][]byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		for i, name := range [][]byte{bTokens, bHits} {
			_ = tx.Bucket(name).ForEach(func(k, v []byte) error {
				if len(v) >= 8 && now.UnixNano() > int64(binary.BigEndian.Uint64(v)) {
					stale[i] = append(stale[i], slices.Clone(k))
				}
				return nil
			})
		}
		return nil
	})
	if len(stale[0])+len(stale[1]) == 0 {
		return
	}
	_ = s.update(func(tx *bolt.Tx) error {
		for i, name := range [][]byte{bTokens, bHits} {
			b := tx.Bucket(name)
			for _, k := range stale[i] {
				if v := b.Get(k); len(v) >= 8 && now.UnixNano() > int64(binary.BigEndian.Uint64(v)) {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// u64 is n as a big-endian key: keys sort as numbers.
func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// i64 reads what u64 wrote (0 for anything shorter).
func i64(b []byte) int64 {
	if len(b) < 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Snapshot writes a consistent copy of the whole file while writers go
// on: open gets the copy's size and returns where to write it.
func (s *Store) Snapshot(open func(size int64) (io.Writer, error)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		w, err := open(tx.Size())
		if err != nil {
			return err
		}
		_, err = tx.WriteTo(w)
		return err
	})
}
