package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cohub/cohub/rooms"
)

// CreateAgent stores a new agent with a unique email.
func (s *Store) CreateAgent(_ context.Context, a *rooms.Agent) error {
	b, err := rooms.EncodeAgent(a)
	if err != nil {
		return err
	}
	email := []byte(strings.ToLower(a.Email))
	return s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bEmails).Get(email) != nil {
			return rooms.ErrEmailTaken
		}
		if err := tx.Bucket(bEmails).Put(email, []byte(a.ID)); err != nil {
			return err
		}
		return tx.Bucket(bAgents).Put([]byte(a.ID), b)
	})
}

// UpdateAgent replaces an existing agent.
func (s *Store) UpdateAgent(_ context.Context, a *rooms.Agent) error {
	b, err := rooms.EncodeAgent(a)
	if err != nil {
		return err
	}
	email := []byte(strings.ToLower(a.Email))
	return s.update(func(tx *bolt.Tx) error {
		old := tx.Bucket(bAgents).Get([]byte(a.ID))
		if old == nil {
			return rooms.ErrNotFound
		}
		prev, err := rooms.DecodeAgent(old)
		if err != nil {
			return err
		}
		emails := tx.Bucket(bEmails)
		if id := emails.Get(email); id != nil && string(id) != a.ID {
			return rooms.ErrEmailTaken
		}
		if err := emails.Delete([]byte(strings.ToLower(prev.Email))); err != nil {
			return err
		}
		if err := emails.Put(email, []byte(a.ID)); err != nil {
			return err
		}
		return tx.Bucket(bAgents).Put([]byte(a.ID), b)
	})
}

// Agent returns one agent.
func (s *Store) Agent(_ context.Context, id string) (*rooms.Agent, error) {
	var out *rooms.Agent
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = agentIn(tx, []byte(id))
		return err
	})
	return out, err
}

func agentIn(tx *bolt.Tx, id []byte) (*rooms.Agent, error) {
	b := tx.Bucket(bAgents).Get(id)
	if b == nil {
		return nil, rooms.ErrNotFound
	}
	return rooms.DecodeAgent(b)
}

// AgentByEmail finds an agent by email, case-insensitively.
func (s *Store) AgentByEmail(_ context.Context, email string) (*rooms.Agent, error) {
	var out *rooms.Agent
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bEmails).Get([]byte(strings.ToLower(email)))
		if id == nil {
			return rooms.ErrNotFound
		}
		var err error
		out, err = agentIn(tx, id)
		return err
	})
	return out, err
}

// ListAgents returns every agent, by email.
func (s *Store) ListAgents(_ context.Context) ([]*rooms.Agent, error) {
	out := []*rooms.Agent{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bAgents).ForEach(func(_, v []byte) error {
			a, err := rooms.DecodeAgent(v)
			out = append(out, a)
			return err
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, err
}

// PutTeam creates or replaces a team.
func (s *Store) PutTeam(_ context.Context, t *rooms.Team) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bTeams).Put([]byte(t.ID), b) })
}

// Team returns one team.
func (s *Store) Team(_ context.Context, id string) (*rooms.Team, error) {
	out := &rooms.Team{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTeams).Get([]byte(id))
		if b == nil {
			return rooms.ErrNotFound
		}
		return json.Unmarshal(b, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTeams returns every team, by name.
func (s *Store) ListTeams(_ context.Context) ([]*rooms.Team, error) {
	out := []*rooms.Team{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bTeams).ForEach(func(_, v []byte) error {
			t := &rooms.Team{}
			out = append(out, t)
			return json.Unmarshal(v, t)
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

var keySettings = []byte("settings")

// Settings returns the org settings.
func (s *Store) Settings(_ context.Context) (rooms.Settings, error) {
	out := rooms.DefaultSettings()
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bMeta).Get(keySettings); b != nil {
			out = rooms.Settings{}
			return json.Unmarshal(b, &out)
		}
		return nil
	})
	return out, err
}

// PutSettings replaces the org settings.
func (s *Store) PutSettings(_ context.Context, set rooms.Settings) error {
	b, err := json.Marshal(set)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(keySettings, b) })
}

// PutToken stores a login token hash: its end (8 bytes), then the token.
func (s *Store) PutToken(_ context.Context, hash string, t rooms.LoginToken, ttl time.Duration) error {
	v := append(u64(uint64(time.Now().Add(ttl).UnixNano())), t.Encode()...)
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bTokens).Put([]byte(hash), v) })
}

// Token resolves a live token hash.
func (s *Store) Token(_ context.Context, hash string) (rooms.LoginToken, error) {
	var out rooms.LoginToken
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bTokens).Get([]byte(hash))
		if len(v) < 8 || time.Now().UnixNano() > i64(v) {
			return rooms.ErrNotFound
		}
		out = rooms.DecodeLoginToken(string(v[8:]))
		return nil
	})
	return out, err
}

// DeleteToken forgets a token.
func (s *Store) DeleteToken(_ context.Context, hash string) error {
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bTokens).Delete([]byte(hash)) })
}

// A hit counter is its window's end (8 bytes), then its count (8 bytes).
func hitValue(until time.Time, n int64) []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(until.UnixNano()))
	binary.BigEndian.PutUint64(v[8:], uint64(n))
	return v
}

// liveHit reads a counter still in its window at now.
func liveHit(v []byte, now time.Time) (until int64, n int64, ok bool) {
	if len(v) < 16 || now.UnixNano() > i64(v) {
		return 0, 0, false
	}
	return i64(v), i64(v[8:]), true
}

// Hit counts key within a fixed window starting at its first hit.
func (s *Store) Hit(_ context.Context, key string, window time.Duration) (int64, error) {
	var n int64
	err := s.update(func(tx *bolt.Tx) error {
		now := time.Now()
		b := tx.Bucket(bHits)
		until, count, ok := liveHit(b.Get([]byte(key)), now)
		if !ok {
			until, count = now.Add(window).UnixNano(), 0
		}
		n = count + 1
		return b.Put([]byte(key), hitValue(time.Unix(0, until), n))
	})
	return n, err
}

// Count reads a Hit counter without counting.
func (s *Store) Count(_ context.Context, key string) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		_, n, _ = liveHit(tx.Bucket(bHits).Get([]byte(key)), time.Now())
		return nil
	})
	return n, err
}

// Unhit takes one Hit back while its window lasts.
func (s *Store) Unhit(_ context.Context, key string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bHits)
		until, n, ok := liveHit(b.Get([]byte(key)), time.Now())
		if !ok || n == 0 {
			return nil
		}
		return b.Put([]byte(key), hitValue(time.Unix(0, until), n-1))
	})
}

// Once is true for the first caller of name, ever: the name is kept on disk.
func (s *Store) Once(_ context.Context, name string) (bool, error) {
	first := false
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bOnce)
		first = b.Get([]byte(name)) == nil
		if !first {
			return nil
		}
		return b.Put([]byte(name), []byte{1})
	})
	return first, err
}
