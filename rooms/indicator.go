package rooms

import (
	"context"
	"time"
)

// ComputeIndicator derives the five-state indicator from a session,
// whether its customer is connected, and the time (a lockout ends).
func ComputeIndicator(s *Session, online bool, now time.Time) Indicator {
	in := Indicator{
		Online:         online,
		Joined:         s.Internal.Joined,
		Completed:      tasksCompleted(s.Tasks),
		Authentication: authState(s, now),
		Consent:        orDefault(s.Internal.Consent, ConsentNotRequested),
		LastSeenAt:     s.Internal.LastSeenAt,
		LockedUntil:    lockedUntil(s, now),
	}
	switch {
	case !in.Joined:
		in.State = NeverJoined
	case online && in.Completed:
		in.State = OnlineCompleted
	case online:
		in.State = OnlineIncomplete
	case in.Completed:
		in.State = OfflineCompleted
	default:
		in.State = OfflineIncomplete
	}
	return in
}

// tasksCompleted: at least one task and none pending.
func tasksCompleted(tasks []Task) bool {
	for _, t := range tasks {
		if t.Status != TaskCompleted {
			return false
		}
	}
	return len(tasks) > 0
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// withIndicators fills each session's indicator from live presence.
func (s *core) withIndicators(ctx context.Context, list ...*Session) {
	online := map[string]bool{}
	if s.presence != nil && len(list) > 0 {
		ids := make([]string, len(list))
		for i, sess := range list {
			ids[i] = sess.ID
		}
		if got, err := s.presence.CustomersOnline(ctx, ids); err == nil {
			online = got
		} else {
			s.logger(ctx).Warn().Err(err).Msg("presence unavailable; customers shown offline")
		}
	}
	for _, sess := range list {
		sess.Indicator = ComputeIndicator(sess, online[sess.ID], s.now())
		if sess.Tasks == nil {
			sess.Tasks = []Task{}
		}
		if sess.Invitations == nil {
			sess.Invitations = []Invitation{}
		}
	}
}
