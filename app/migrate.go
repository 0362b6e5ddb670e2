package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/rooms"
)

// Migrated counts what Migrate copied.
type Migrated struct {
	Agents, Teams, APIKeys, Sessions, Events, Assets, Files, Invitations int
}

// migrateBatch is how many events one commit into the target carries.
const migrateBatch = 256

// Migrate copies a stopped node's data directory into an empty Redis
// backend: settings, teams, agents (their password hashes too), API
// keys (their hashes), every
// session with its room log (same ids, seqs and digests, so records
// still verify), its files' records and the outbox. toBlobs, when not
// nil, receives a copy of every file of the directory's blob bucket.
// Login tokens, counters and presence are not copied: agents sign in
// again on the cluster.
func Migrate(ctx context.Context, from *DataDir, to *Backend, toBlobs blobs.Store) (Migrated, error) {
	var n Migrated
	assets, ok := to.Store.(rooms.AssetStore)
	if !ok {
		return n, errors.New("the target backend keeps no file records")
	}
	if agents, err := to.Store.ListAgents(ctx); err != nil || len(agents) > 0 {
		if err == nil {
			err = errors.New("the target already holds accounts: migrate into an empty Redis (or another --redis-prefix)")
		}
		return n, err
	}
	if err := migrateAccounts(ctx, from, to, &n); err != nil {
		return n, err
	}
	if err := migrateSessions(ctx, from, to, assets, &n); err != nil {
		return n, err
	}
	if err := migrateOutbox(ctx, from, to, &n); err != nil {
		return n, err
	}
	if toBlobs == nil {
		return n, nil
	}
	return n, migrateFiles(ctx, from, toBlobs, &n)
}

func migrateAccounts(ctx context.Context, from *DataDir, to *Backend, n *Migrated) error {
	src := from.Store
	set, err := src.Settings(ctx)
	if err != nil {
		return err
	}
	if err := to.Store.PutSettings(ctx, set); err != nil {
		return err
	}
	teams, err := src.ListTeams(ctx)
	if err != nil {
		return err
	}
	for _, t := range teams {
		if err := to.Store.PutTeam(ctx, t); err != nil {
			return fmt.Errorf("team %s: %w", t.ID, err)
		}
	}
	agents, err := src.ListAgents(ctx)
	if err != nil {
		return err
	}
	for _, a := range agents {
		if err := to.Store.CreateAgent(ctx, a); err != nil {
			return fmt.Errorf("agent %s: %w", a.ID, err)
		}
	}
	keys, err := src.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := to.Store.PutAPIKey(ctx, k); err != nil {
			return fmt.Errorf("API key %s: %w", k.ID, err)
		}
	}
	n.Teams, n.Agents, n.APIKeys = len(teams), len(agents), len(keys)
	if len(agents) > 0 {
		// The directory was seeded (or bootstrapped): a cluster node
		// started with --demo must not seed again.
		_, err = to.Store.Once(ctx, "demo-seed")
	}
	return err
}

// migrateSessions copies every session in the all-sessions index.
func migrateSessions(ctx context.Context, from *DataDir, to *Backend, assets rooms.AssetStore, n *Migrated) error {
	var after rooms.Cursor
	for {
		page, err := from.Store.History(ctx, rooms.IndexAll, after, time.Time{}, 200)
		if err != nil || len(page) == 0 {
			return err
		}
		for _, e := range page {
			if err := migrateSession(ctx, from, to, assets, e.ID, n); err != nil {
				return fmt.Errorf("session %s: %w", e.ID, err)
			}
		}
		last := page[len(page)-1]
		after = rooms.Cursor{Score: last.Score, ID: last.ID}
	}
}

// migrateSession commits the session with its log in batches: the first
// creates it, each next one carries the version the last one gave. An
// open session is made due at once on the target's follow-up schedule
// (which is not copied): its first wake sets its next follow-up again.
func migrateSession(ctx context.Context, from *DataDir, to *Backend, assets rooms.AssetStore, id string, n *Migrated) error {
	s, err := from.Store.Session(ctx, id)
	if err != nil {
		return err
	}
	events, err := from.Store.Events(ctx, id, 0, 0)
	if err != nil {
		return err
	}
	s.Internal.Version = 0
	for start := 0; start == 0 || start < len(events); start += migrateBatch {
		batch := events[start:min(start+migrateBatch, len(events))]
		out, err := to.Store.Commit(ctx, s, batch, rooms.CommitOptions{})
		if err != nil {
			return err
		}
		for i := range out {
			if out[i].Seq != batch[i].Seq {
				return fmt.Errorf("event %d landed at seq %d", batch[i].Seq, out[i].Seq)
			}
		}
	}
	list, err := from.Store.Assets(ctx, id)
	if err != nil {
		return err
	}
	for _, a := range list {
		if err := assets.PutAsset(ctx, a); err != nil {
			return err
		}
	}
	// Read horizons after the log: a horizon never passes its log's end.
	horizons, err := from.Store.Horizons(ctx, []string{id})
	if err != nil {
		return err
	}
	for reader, seq := range horizons[id] {
		if _, _, err := to.Store.RaiseHorizon(ctx, id, reader, seq); err != nil {
			return err
		}
	}
	n.Sessions, n.Events, n.Assets = n.Sessions+1, n.Events+len(events), n.Assets+len(list)
	if s.State == rooms.StateEnded {
		return nil
	}
	return to.Followups.Sooner(ctx, id, time.Now())
}

func migrateOutbox(ctx context.Context, from *DataDir, to *Backend, n *Migrated) error {
	msgs, err := from.Store.Outbox().List(ctx, outboxSize)
	if err != nil {
		return err
	}
	slices.Reverse(msgs) // oldest first, as they were sent
	for _, m := range msgs {
		if err := to.Outbox.Send(ctx, m); err != nil {
			return err
		}
	}
	n.Invitations = len(msgs)
	return nil
}

// migrateFiles copies every blob of the directory's bucket (uploads,
// signed copies, documents to sign) under its own key. The records
// carry the content type; the copy's own is not served.
func migrateFiles(ctx context.Context, from *DataDir, to blobs.Store, n *Migrated) error {
	src, err := blobs.Open(ctx, from.BlobURL())
	if err != nil {
		return err
	}
	defer src.Close()
	root := from.file(blobsDir)
	return filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return ignoreMissing(err)
		}
		key, _ := filepath.Rel(root, path)
		key = filepath.ToSlash(key)
		if strings.Contains(filepath.Base(key), ".") { // the bucket's attribute files
			return nil
		}
		r, err := src.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("file %s: %w", key, err)
		}
		defer r.Close()
		if err := to.Put(ctx, key, "application/octet-stream", r); err != nil {
			return fmt.Errorf("file %s: %w", key, err)
		}
		n.Files++
		return nil
	})
}
