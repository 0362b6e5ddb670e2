package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/redis/go-redis/v9"
)

// The counters, and the accounts: agents, teams, settings, login tokens.

// Hit counts key in a window that starts at its first hit.
func (r *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	k := r.key("hit", key)
	pipe := r.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Do(ctx, "PEXPIRE", k, window.Milliseconds(), "NX")
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, unavailable(err)
	}
	return incr.Val(), nil
}

// Count reads a Hit counter without counting.
func (r *Store) Count(ctx context.Context, key string) (int64, error) {
	n, err := r.rdb.Get(ctx, r.key("hit", key)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, unavailable(err)
}

//go:embed scripts/unhit.lua
var unhitLua string

var unhit = redis.NewScript(unhitLua)

// Unhit takes one Hit back while its window lasts.
func (r *Store) Unhit(ctx context.Context, key string) error {
	return unavailable(unhit.Run(ctx, r.rdb, []string{r.key("hit", key)}).Err())
}

// Once is true for exactly one caller of name.
func (r *Store) Once(ctx context.Context, name string) (bool, error) {
	ok, err := r.rdb.SetNX(ctx, r.key("once", name), "1", 0).Result()
	return ok, unavailable(err)
}

// CreateAgent claims the email, then writes the agent.
func (r *Store) CreateAgent(ctx context.Context, a *rooms.Agent) error {
	b, err := rooms.EncodeAgent(a)
	if err != nil {
		return err
	}
	if err := r.claimEmail(ctx, a.Email, a.ID); err != nil {
		return err
	}
	// The record and the id set live in different Cluster slots, so this
	// is a pipeline, not a transaction; the email guard already made the
	// agent unique.
	pipe := r.rdb.Pipeline()
	pipe.Set(ctx, r.key("agent", a.ID), b, 0)
	pipe.SAdd(ctx, r.key("agents"), a.ID)
	if _, err := pipe.Exec(ctx); err != nil {
		r.releaseEmail(ctx, a.Email, a.ID)
		return unavailable(err)
	}
	return nil
}

// UpdateAgent replaces an agent, moving its email guard when it changed.
func (r *Store) UpdateAgent(ctx context.Context, a *rooms.Agent) error {
	prev, err := r.Agent(ctx, a.ID)
	if err != nil {
		return err
	}
	b, err := rooms.EncodeAgent(a)
	if err != nil {
		return err
	}
	moved := !strings.EqualFold(prev.Email, a.Email)
	if moved {
		if err := r.claimEmail(ctx, a.Email, a.ID); err != nil {
			return err
		}
	}
	if err := r.rdb.Set(ctx, r.key("agent", a.ID), b, 0).Err(); err != nil {
		if moved {
			r.releaseEmail(ctx, a.Email, a.ID)
		}
		return unavailable(err)
	}
	if moved {
		r.releaseEmail(ctx, prev.Email, a.ID)
	}
	return nil
}

func (r *Store) emailKey(email string) string {
	return r.key("agent-email", strings.ToLower(email))
}

func (r *Store) claimEmail(ctx context.Context, email, id string) error {
	ok, err := r.rdb.SetNX(ctx, r.emailKey(email), id, 0).Result()
	if err != nil {
		return unavailable(err)
	}
	if !ok {
		return rooms.ErrEmailTaken
	}
	return nil
}

// releaseEmail drops an email guard only if it still names this agent.
func (r *Store) releaseEmail(ctx context.Context, email, id string) {
	k := r.emailKey(email)
	_ = r.rdb.Watch(ctx, func(tx *redis.Tx) error {
		if owner, _ := tx.Get(ctx, k).Result(); owner != id {
			return nil
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error { return p.Del(ctx, k).Err() })
		return err
	}, k)
}

// Agent returns one agent.
func (r *Store) Agent(ctx context.Context, id string) (*rooms.Agent, error) {
	b, err := r.rdb.Get(ctx, r.key("agent", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, rooms.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return rooms.DecodeAgent(b)
}

// AgentByEmail finds an agent through its email guard.
func (r *Store) AgentByEmail(ctx context.Context, email string) (*rooms.Agent, error) {
	id, err := r.rdb.Get(ctx, r.emailKey(email)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, rooms.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return r.Agent(ctx, id)
}

// ListAgents returns every agent, by email.
func (r *Store) ListAgents(ctx context.Context) ([]*rooms.Agent, error) {
	var out []*rooms.Agent
	err := r.loadSet(ctx, "agents", "agent", func(b []byte) error {
		a, err := rooms.DecodeAgent(b)
		if err == nil {
			out = append(out, a)
		}
		return err
	})
	slices.SortFunc(out, func(a, b *rooms.Agent) int { return strings.Compare(a.Email, b.Email) })
	return out, err
}

// loadSet reads every record whose id is in a set.
func (r *Store) loadSet(ctx context.Context, set, kind string, each func([]byte) error) error {
	ids, err := r.rdb.SMembers(ctx, r.key(set)).Result()
	if err != nil || len(ids) == 0 {
		return unavailable(err)
	}
	// One GET per key in a pipeline: MGET would cross Cluster slots.
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.Get(ctx, r.key(kind, id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return unavailable(err)
	}
	for _, c := range cmds {
		if b, err := c.Bytes(); err == nil {
			if err := each(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// PutTeam creates or replaces a team.
func (r *Store) PutTeam(ctx context.Context, t *rooms.Team) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	pipe := r.rdb.Pipeline() // two slots on Cluster: see CreateAgent
	pipe.Set(ctx, r.key("team", t.ID), b, 0)
	pipe.SAdd(ctx, r.key("teams"), t.ID)
	_, err = pipe.Exec(ctx)
	return unavailable(err)
}

// Team returns one team.
func (r *Store) Team(ctx context.Context, id string) (*rooms.Team, error) {
	b, err := r.rdb.Get(ctx, r.key("team", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, rooms.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	t := &rooms.Team{}
	return t, json.Unmarshal(b, t)
}

// ListTeams returns every team, by name.
func (r *Store) ListTeams(ctx context.Context) ([]*rooms.Team, error) {
	var out []*rooms.Team
	err := r.loadSet(ctx, "teams", "team", func(b []byte) error {
		t := &rooms.Team{}
		if err := json.Unmarshal(b, t); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	slices.SortFunc(out, func(a, b *rooms.Team) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// Settings returns the org settings, or the defaults.
func (r *Store) Settings(ctx context.Context) (rooms.Settings, error) {
	b, err := r.rdb.Get(ctx, r.key("settings")).Bytes()
	if errors.Is(err, redis.Nil) {
		return rooms.DefaultSettings(), nil
	}
	if err != nil {
		return rooms.Settings{}, unavailable(err)
	}
	var s rooms.Settings
	return s, json.Unmarshal(b, &s)
}

// PutSettings replaces the org settings.
func (r *Store) PutSettings(ctx context.Context, s rooms.Settings) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return unavailable(r.rdb.Set(ctx, r.key("settings"), b, 0).Err())
}

// PutToken stores a login token hash with its lifetime.
func (r *Store) PutToken(ctx context.Context, hash string, t rooms.LoginToken, ttl time.Duration) error {
	return unavailable(r.rdb.Set(ctx, r.key("auth", hash), t.Encode(), ttl).Err())
}

// Token resolves a live token hash.
func (r *Store) Token(ctx context.Context, hash string) (rooms.LoginToken, error) {
	v, err := r.rdb.Get(ctx, r.key("auth", hash)).Result()
	if errors.Is(err, redis.Nil) {
		return rooms.LoginToken{}, rooms.ErrNotFound
	}
	if err != nil {
		return rooms.LoginToken{}, unavailable(err)
	}
	return rooms.DecodeLoginToken(v), nil
}

// PutTicket keeps a sealed WebSocket ticket until ttl passes.
func (r *Store) PutTicket(ctx context.Context, hash string, sealed []byte, ttl time.Duration) error {
	return unavailable(r.rdb.Set(ctx, r.key("ticket", hash), sealed, ttl).Err())
}

// TakeTicket is GETDEL: one atomic step, so a ticket opens one socket.
func (r *Store) TakeTicket(ctx context.Context, hash string) ([]byte, error) {
	v, err := r.rdb.GetDel(ctx, r.key("ticket", hash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, rooms.ErrNotFound
	}
	return v, unavailable(err)
}

// DeleteToken forgets a token.
func (r *Store) DeleteToken(ctx context.Context, hash string) error {
	return unavailable(r.rdb.Del(ctx, r.key("auth", hash)).Err())
}
