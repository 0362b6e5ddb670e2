package boltstore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/rooms"
)

// PutAsset writes an asset's record under its session.
func (s *Store) PutAsset(_ context.Context, a *rooms.Asset) error {
	b, err := rooms.EncodeAsset(a)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		if err := putIn(tx.Bucket(bAssets), []byte(a.SessionID), []byte(a.ID), b); err != nil {
			return err
		}
		if a.DeletedAt != nil {
			return nil
		}
		return tx.Bucket(bAssetSes).Put([]byte(a.SessionID), nil)
	})
}

// DeleteAsset removes a record.
func (s *Store) DeleteAsset(_ context.Context, sessionID, id string) error {
	return s.update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bAssets).Bucket([]byte(sessionID)); b != nil {
			return b.Delete([]byte(id))
		}
		return nil
	})
}

// Asset returns one record.
func (s *Store) Asset(_ context.Context, sessionID, id string) (*rooms.Asset, error) {
	var out *rooms.Asset
	err := s.db.View(func(tx *bolt.Tx) error {
		var v []byte
		if b := tx.Bucket(bAssets).Bucket([]byte(sessionID)); b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return rooms.ErrNotFound
		}
		var err error
		out, err = rooms.DecodeAsset(v)
		return err
	})
	return out, err
}

// Assets lists a session's records, oldest first.
func (s *Store) Assets(_ context.Context, sessionID string) ([]*rooms.Asset, error) {
	out := []*rooms.Asset{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAssets).Bucket([]byte(sessionID))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			a, err := rooms.DecodeAsset(v)
			out = append(out, a)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	rooms.SortAssets(out)
	return out, nil
}

// AssetSessions lists sessions that keep blobs, in id order.
func (s *Store) AssetSessions(_ context.Context, after string, limit int) ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bAssetSes).Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil && len(ids) < limit; k, _ = c.Next() {
			ids = append(ids, string(k))
		}
		return nil
	})
	return ids, err
}

// ForgetAssetSession drops a session from AssetSessions.
func (s *Store) ForgetAssetSession(_ context.Context, sessionID string) error {
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bAssetSes).Delete([]byte(sessionID)) })
}
