package boltstore

import (
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/rooms"
)

// PutAPIKey stores a new key, findable by its hash.
func (s *Store) PutAPIKey(_ context.Context, k rooms.APIKey) error {
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bKeyHash).Put([]byte(k.Hash), []byte(k.ID)); err != nil {
			return err
		}
		return tx.Bucket(bKeys).Put([]byte(k.ID), b)
	})
}

// APIKeyByHash finds a key by its hash.
func (s *Store) APIKeyByHash(_ context.Context, hash string) (rooms.APIKey, error) {
	var k rooms.APIKey
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bKeyHash).Get([]byte(hash))
		if id == nil {
			return rooms.ErrNotFound
		}
		return keyIn(tx, id, &k)
	})
	return k, err
}

func keyIn(tx *bolt.Tx, id []byte, k *rooms.APIKey) error {
	b := tx.Bucket(bKeys).Get(id)
	if b == nil {
		return rooms.ErrNotFound
	}
	return json.Unmarshal(b, k)
}

// ListAPIKeys returns every key, with its last use.
func (s *Store) ListAPIKeys(_ context.Context) ([]rooms.APIKey, error) {
	out := []rooms.APIKey{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bKeys).ForEach(func(_, v []byte) error {
			var k rooms.APIKey
			if err := json.Unmarshal(v, &k); err != nil {
				return err
			}
			out = append(out, k)
			return nil
		})
	})
	return out, err
}

// DeleteAPIKey forgets a key.
func (s *Store) DeleteAPIKey(_ context.Context, id string) error {
	return s.update(func(tx *bolt.Tx) error {
		var k rooms.APIKey
		if err := keyIn(tx, []byte(id), &k); err != nil {
			return err
		}
		if err := tx.Bucket(bKeyHash).Delete([]byte(k.Hash)); err != nil {
			return err
		}
		return tx.Bucket(bKeys).Delete([]byte(id))
	})
}

// TouchAPIKey records a use (a key revoked meanwhile stays gone).
func (s *Store) TouchAPIKey(_ context.Context, id string, at time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		var k rooms.APIKey
		if err := keyIn(tx, []byte(id), &k); err != nil {
			return nil
		}
		at = at.UTC()
		k.LastUsedAt = &at
		b, err := json.Marshal(k)
		if err != nil {
			return err
		}
		return tx.Bucket(bKeys).Put([]byte(id), b)
	})
}
