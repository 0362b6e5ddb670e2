// What the stores share with the domain: how records are encoded, the
// write gate, the GCRA rate limit, room-log epochs and the history
// indexes a session is listed in. The memory store runs these in Go; the
// Redis store's Lua scripts (redisstore/scripts) run the write gate and
// GCRA again inside Redis, and the store contract suite checks that both
// answer alike.

package rooms

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WriteGate is who may post in a session now: anyone while it is open
// (customers not while it is only planned); after the end, nobody but a
// customer whose end access still allows it. append.lua keeps the same
// rule for Redis.
func WriteGate(s *Session, role string, now time.Time) error {
	if role != "customer" {
		if s.State == StateEnded {
			return fmt.Errorf("%w: the session has ended", ErrReadOnly)
		}
		return nil
	}
	switch CustomerAccess(s, now) {
	case AccessLevelFull:
		if s.State == StatePlanned {
			return ErrForbidden
		}
		return nil
	case AccessLevelLimited:
		return fmt.Errorf("%w: the session has ended; you can still read it", ErrReadOnly)
	}
	return ErrSessionEnded
}

// MergeActivity keeps a session's activity at its latest: a commit built from
// an older read never moves it back past a message logged meanwhile
// (messages do not change the version). Updated is cleared only when the
// commit says so.
func MergeActivity(s, stored *Session, clear bool) {
	if stored.UpdatedAt.After(s.UpdatedAt) {
		s.UpdatedAt = stored.UpdatedAt
	}
	if stored.Internal.LastAgentAt.After(s.Internal.LastAgentAt) {
		s.Internal.LastAgentAt = stored.Internal.LastAgentAt
	}
	s.Updated = !clear && (s.Updated || stored.Updated)
}

// AppendTouch is what a chat message does to its session in every
// store: the customer's name on file goes on the event, and the
// session's activity moves (its agent's too for anyone but the
// customer). It returns the event to log and whether the message newly
// marked the session updated.
func AppendTouch(s *Session, a MessageAppend) (Event, bool) {
	e := a.Event
	role := e.From.Role
	if role == "customer" {
		from := *e.From
		from.Name = s.Customer.Name
		e.From = &from
	}
	marked := a.MarkUpdated && !s.Updated
	touch := &Session{UpdatedAt: a.Now, Updated: a.MarkUpdated}
	if role != "customer" {
		touch.Internal.LastAgentAt = a.Now
	}
	MergeActivity(s, touch, false)
	return e, marked
}

// GCRA applies a Rate at now to the time the next commit is allowed
// without burst (tat): it returns the new tat, or how long to wait.
func GCRA(tat, now time.Time, r *Rate) (time.Time, time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	tolerance := r.Every * time.Duration(r.Burst-1)
	if wait := tat.Sub(now) - tolerance; wait > 0 {
		return tat, wait
	}
	return tat.Add(r.Every), 0
}

// NewEpoch names one incarnation of a room log.
func NewEpoch() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SessionIndexes names the history indexes a session belongs to.
func SessionIndexes(s *Session) []string {
	names := []string{IndexAll, IndexAgent(s.AgentID)}
	if s.TeamID != "" {
		names = append(names, IndexTeam(s.TeamID))
	}
	return names
}

// Encode is the stored form: "agentID gen" ("agentID" alone is gen 0).
func (t LoginToken) Encode() string { return t.AgentID + " " + strconv.Itoa(t.Gen) }

// DecodeLoginToken reads what Encode wrote.
func DecodeLoginToken(v string) LoginToken {
	id, gen, _ := strings.Cut(v, " ")
	n, _ := strconv.Atoi(gen)
	return LoginToken{AgentID: id, Gen: n}
}

// sessionRecord is how a session is stored: the API fields plus the
// internal ones.
type sessionRecord struct {
	*Session
	Internal *SessionInternal `json:"internal"`
}

// EncodeSession is a session's stored record: its API fields and Internal.
func EncodeSession(s *Session) ([]byte, error) {
	return json.Marshal(sessionRecord{Session: s, Internal: &s.Internal})
}

// DecodeSession reads a stored record, old ones included.
func DecodeSession(b []byte) (*Session, error) {
	s := &Session{}
	if err := json.Unmarshal(b, &sessionRecord{Session: s, Internal: &s.Internal}); err != nil {
		return nil, err
	}
	// Records written before lockouts escalated kept "locked" as the
	// authentication itself.
	if in := &s.Internal; in.Authentication == AuthLocked {
		in.Authentication, in.Lockouts = AuthPending, max(in.Lockouts, 1)
	}
	return s, nil
}

type agentRecord struct {
	*Agent
	PasswordHash []byte `json:"password_hash"`
	TokenGen     int    `json:"token_gen,omitempty"`
}

// EncodeAgent is an agent's stored record, its password hash included.
func EncodeAgent(a *Agent) ([]byte, error) {
	return json.Marshal(agentRecord{Agent: a, PasswordHash: a.PasswordHash, TokenGen: a.TokenGen})
}

// DecodeAgent reads what EncodeAgent wrote.
func DecodeAgent(b []byte) (*Agent, error) {
	r := agentRecord{Agent: &Agent{}}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	r.Agent.PasswordHash, r.Agent.TokenGen = r.PasswordHash, r.TokenGen
	return r.Agent, nil
}

// assetRecord is how an asset is stored: the API fields plus its blob key.
type assetRecord struct {
	*Asset
	BlobKey string `json:"blob_key"`
}

// EncodeAsset is an asset's stored record, its blob key included.
func EncodeAsset(a *Asset) ([]byte, error) {
	return json.Marshal(assetRecord{Asset: a, BlobKey: a.BlobKey})
}

// DecodeAsset reads what EncodeAsset wrote.
func DecodeAsset(b []byte) (*Asset, error) {
	r := assetRecord{Asset: &Asset{}}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	r.Asset.BlobKey = r.BlobKey
	return r.Asset, nil
}

// SortAssets orders a session's assets oldest first, as every store lists them.
func SortAssets(list []*Asset) {
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].At.Equal(list[j].At) {
			return list[i].At.Before(list[j].At)
		}
		return list[i].ID < list[j].ID
	})
}

// EventDigest is the SHA-256 of what an event says: every field but its
// seq (the log's position, which the chain orders), the sender's display
// name (the customer's name on file, filled in as it is logged) and the
// digest itself.
func EventDigest(e Event) string {
	e.Seq, e.Digest = 0, ""
	if e.From != nil {
		from := *e.From
		from.Name = ""
		e.From = &from
	}
	b, _ := MarshalEvent(e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChainStart is the hash a session's chain begins from.
func ChainStart(sessionID string) [32]byte {
	return sha256.Sum256([]byte("cohub session " + sessionID))
}

// ChainNext links one event's digest onto the chain's hash so far.
func ChainNext(prev [32]byte, digest string) [32]byte {
	return sha256.Sum256(append(prev[:], digest...))
}
