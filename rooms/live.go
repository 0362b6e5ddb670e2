package rooms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxMessageChars bounds a chat message (DESIGN.md §8).
const MaxMessageChars = 4000

// OpenRoom is an agent opening a session's room (the WebSocket join,
// which checks Origin): allowed to those who may act on it. It returns
// the session with its indicator and, like Seen, clears "updated" for
// the session's own agent.
func (s *SessionService) OpenRoom(ctx context.Context, a *Agent, id string) (*Session, error) {
	return s.Seen(ctx, a, id)
}

// PostMessage logs a chat message. A customer's message while no agent
// is in the room marks the session updated for its agent; an agent's
// counts as agent activity for auto-end. Each sender has a message rate
// per session, across connections and nodes. A full room refuses the
// customer's messages, not the agent's: only the party who could flood
// it loses the chat, and the agent can still talk, end and renew.
func (s *SessionService) PostMessage(ctx context.Context, id string, m Message) (Event, error) {
	text := strings.TrimSpace(m.Text)
	switch {
	case text == "":
		return Event{}, &ValidationError{Fields: map[string]string{"data.text": "is required"}}
	case utf8.RuneCountInString(text) > MaxMessageChars:
		return Event{}, &ValidationError{Fields: map[string]string{"data.text": fmt.Sprintf("is longer than %d characters", MaxMessageChars)}}
	case len(m.ID) > 64:
		return Event{}, &ValidationError{Fields: map[string]string{"id": "must be at most 64 characters"}}
	}
	from, now := m.From, s.now()
	e := Event{Type: EventMessage, At: now, From: &from, Text: text}
	e.Digest = EventDigest(e)
	a, err := s.store.Append(ctx, id, MessageAppend{
		Event: e, Now: now,
		MarkUpdated: from.Role == "customer" && !m.AgentsHere, Opts: s.messageOptions(from, m.ID),
	})
	var dup *DuplicateError
	if errors.As(err, &dup) {
		return a.Event, nil
	}
	if err != nil {
		return Event{}, err
	}
	s.logged(id, []Event{a.Event})
	if from.Role != "customer" && !m.CustomerOnline && s.cfg.Followups != nil {
		// An away notice may come of it: the wake decides, no sooner
		// than the shortest quiet period, so the message's path reads
		// no settings and makes one call at most.
		s.sooner(ctx, id, now.Add(s.cfg.FollowupMinDelay))
	}
	if a.MarkedUpdated {
		go s.announceUpdated(id, a.Event)
	}
	return a.Event, nil
}

// announceUpdated tells the listener that a message marked its session
// updated (the agent's inbox shows it): the session is read for that,
// off the message's path; it happens only while no agent is in the room.
func (s *SessionService) announceUpdated(id string, e Event) {
	if _, none := s.listen.(quiet); none {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sess, err := s.store.Session(ctx, id)
	if err != nil {
		s.log.Warn().Err(err).Str("session", id).Msg("updated session not announced")
		return
	}
	s.listen.Committed(sess, []Event{e})
}

// messageOptions are a sender's bounds: the room cap (twice as high for
// agents), the sender's rate, and the message's name.
func (s *SessionService) messageOptions(from Actor, msgID string) CommitOptions {
	sender, max := "customer", s.cfg.MaxRoomEvents
	if from.Role != "customer" {
		sender, max = "agent:"+from.ID, 2*s.cfg.MaxRoomEvents
	}
	opts := CommitOptions{MaxEvents: max,
		Rate: &Rate{Key: sender, Every: time.Duration(float64(time.Second) / s.cfg.MessageRate), Burst: s.cfg.MessageBurst}}
	if msgID != "" {
		opts.Once = sender + ":" + msgID
	}
	return opts
}

// SeenAt records the last moment the customer was connected.
func (s *SessionService) SeenAt(ctx context.Context, id string, at time.Time) error {
	_, _, err := s.update(ctx, id, func(cur *Session) ([]Event, error) {
		if cur.Internal.LastSeenAt != nil && !at.After(*cur.Internal.LastSeenAt) {
			return nil, nil
		}
		t := at.UTC()
		cur.Internal.LastSeenAt = &t
		return nil, nil
	})
	return err
}

// Indicate fills a session's indicator from a known online flag: the hub
// knows presence already and need not ask the tracker again.
func Indicate(s *Session, online bool, now time.Time) *Session {
	s.Indicator = ComputeIndicator(s, online, now)
	if s.Tasks == nil {
		s.Tasks = []Task{}
	}
	if s.Invitations == nil {
		s.Invitations = []Invitation{}
	}
	return s
}
