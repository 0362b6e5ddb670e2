package rooms

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// KeyService's work: issue, list, revoke. The key's type (APIKey) and
// its store role (APIKeys) stand lower, in types.go and store.go, and
// AccountService.Authenticate takes keys (keyAgent, accounts.go).

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
