package rooms

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// APIKeyPrefix starts every API key, so a key is told from a login token
// (and found by secret scanners) by its first characters.
const APIKeyPrefix = "ck_"

// APIKey is a named credential an admin gives an integration (a CRM): it
// acts as one agent, with that agent's role, through
// "Authorization: Bearer". The key itself is shown once, when issued;
// the store keeps its hash.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	AgentID    string     `json:"agent_id"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// Hash is the key's TokenHash: how it is found, never shown.
	Hash string `json:"hash,omitempty"`
}

// APIKeys keeps the API keys.
type APIKeys interface {
	// PutAPIKey stores a new key, findable by its hash.
	PutAPIKey(ctx context.Context, k APIKey) error
	// APIKeyByHash returns the key of a hash, ErrNotFound when none.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// ListAPIKeys returns every key, with its last use.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// DeleteAPIKey forgets a key (ErrNotFound when none): it opens
	// nothing from then on, on any node.
	DeleteAPIKey(ctx context.Context, id string) error
	// TouchAPIKey records a use.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// KeyService issues, lists and revokes API keys (admins only, which the
// HTTP edge checks); AccountService.Authenticate takes them.
type KeyService struct {
	*core
}

// Issue makes a key named name acting as agentID, and returns the key
// (shown once) and its record.
func (s *KeyService) Issue(ctx context.Context, by *Agent, name, agentID string) (string, *APIKey, error) {
	f := problems{}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 80 {
		f.add("name", "must be 1 to 80 characters")
	}
	checkName(name, "name", f)
	a, err := s.store.Agent(ctx, agentID)
	if errors.Is(err, ErrNotFound) {
		f.add("agent_id", "no such agent")
	} else if err != nil {
		return "", nil, err
	} else if a.Disabled {
		f.add("agent_id", "the agent is disabled")
	}
	if err := f.asError(); err != nil {
		return "", nil, err
	}
	key := APIKeyPrefix + randomToken()
	k := APIKey{ID: newID("key_"), Name: name, AgentID: agentID, CreatedAt: s.now().Truncate(time.Second),
		CreatedBy: by.ID, Hash: TokenHash(key)}
	if err := s.store.PutAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	k.Hash = ""
	return key, &k, nil
}

// List returns every key, newest first, without their hashes.
func (s *KeyService) List(ctx context.Context) ([]APIKey, error) {
	keys, err := s.store.ListAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i].Hash = ""
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID > keys[j].ID })
	return keys, nil
}

// Revoke forgets a key at once.
func (s *KeyService) Revoke(ctx context.Context, id string) error {
	return s.store.DeleteAPIKey(ctx, id)
}

// keyAgent is the agent an API key acts as, with the key's name; a
// revoked key, or one whose agent was disabled or removed, is refused.
func (s *AccountService) keyAgent(ctx context.Context, key string) (*Agent, error) {
	k, err := s.store.APIKeyByHash(ctx, TokenHash(key))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredential
	}
	if err != nil {
		return nil, err
	}
	a, err := s.store.Agent(ctx, k.AgentID)
	if errors.Is(err, ErrNotFound) || (err == nil && a.Disabled) {
		return nil, ErrBadCredential
	}
	if err != nil {
		return nil, err
	}
	if err := s.store.TouchAPIKey(ctx, k.ID, s.now()); err != nil {
		s.logger(ctx).Warn().Err(err).Str("api_key", k.Name).Msg("api key's last use not recorded")
	}
	a.APIKey = k.Name
	return a, nil
}
