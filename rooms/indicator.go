package rooms

import (
	"time"
)

// ComputeIndicator derives the five-state indicator from a session,
// whether its customer is connected, and the time (a lockout ends).
func ComputeIndicator(s *Session, online bool, now time.Time) Indicator {
	in := Indicator{
		Online:         online,
		Joined:         s.Internal.Joined,
		Completed:      tasksCompleted(s.Tasks),
		Tasks:          len(s.Tasks),
		Authentication: authState(s, now),
		Consent:        orDefault(s.Internal.Consent, ConsentNotRequested),
		LastSeenAt:     s.Internal.LastSeenAt,
		LockedUntil:    lockedUntil(s, now),
		Opened:         s.Internal.OpenedAt != nil,
	}
	if in.Opened && !in.Joined {
		in.Gate = gateAt(s, in.Authentication, in.Consent)
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

// gateAt is the check a customer who opened their link has still to
// pass: authentication, then consent; "" once through both.
func gateAt(s *Session, auth, consent string) string {
	switch {
	case authRequired(s) && auth != AuthVerified:
		return "authentication"
	case consentRequired(s) && consent != ConsentAccepted:
		return "consent"
	}
	return ""
}
