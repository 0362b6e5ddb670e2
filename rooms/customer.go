package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cohub/cohub/notify"
)

// CheckLink verifies a customer link in the order DESIGN.md §5 gives:
// signature, session ended with no access, revoked, expired.
func (s *GateService) CheckLink(ctx context.Context, token string) (*Session, LinkClaims, error) {
	c, err := parseLink(s.cfg.Secret, token)
	if err != nil {
		return nil, c, err
	}
	sess, err := s.store.Session(ctx, c.SessionID)
	if errors.Is(err, ErrNotFound) {
		return nil, c, ErrLinkInvalid
	}
	if err != nil {
		return nil, c, err
	}
	now := s.now()
	switch {
	case CustomerAccess(sess, now) == "":
		return sess, c, ErrSessionEnded
	case c.Gen != sess.Internal.LinkGen:
		return sess, c, ErrLinkRevoked
	case !now.Before(c.Expires):
		return sess, c, ErrLinkExpired
	}
	return sess, c, nil
}

// CustomerView returns the customer's view of the session behind a link,
// as this browser stands (its customer token): tasks show once this
// browser passed every gate.
func (s *GateService) CustomerView(ctx context.Context, link, customerToken string) (*CustomerView, error) {
	sess, c, err := s.CheckLink(ctx, link)
	if err != nil {
		return nil, err
	}
	if sess, err = s.markOpened(ctx, sess); err != nil {
		return nil, err
	}
	return s.customerView(ctx, sess, c, s.readPass(sess, customerToken))
}

// markOpened notes the first time a customer opens their link, so agents
// see them at the gate rather than "never joined".
func (s *GateService) markOpened(ctx context.Context, sess *Session) (*Session, error) {
	if sess.Internal.OpenedAt != nil || sess.State != StateActive {
		return sess, nil
	}
	out, _, err := s.updateFrom(ctx, sess, sess.ID, func(cur *Session) ([]Event, error) {
		if cur.Internal.OpenedAt != nil {
			return nil, nil
		}
		now := s.now()
		cur.Internal.OpenedAt = &now
		return []Event{{Type: EventCustomerOpened, At: now, From: &Actor{Role: "customer", Name: cur.Customer.Name}}}, nil
	})
	return out, err
}

func (s *GateService) customerView(ctx context.Context, sess *Session, c LinkClaims, p gatePass) (*CustomerView, error) {
	_, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return nil, err
	}
	g := browserGates(sess, p, s.now())
	v := &CustomerView{
		Session: CustomerSession{ID: sess.ID, State: sess.State, Customer: CustomerName{Name: sess.Customer.Name},
			Tasks: []Task{}, Access: sess.Access},
		Access: CustomerAccess(sess, s.now()), Gates: g, ExpiresAt: c.Expires, MaxUpload: s.cfg.MaxUpload,
	}
	if g.Consent != ConsentNotRequested {
		v.Session.Consent = ts.Consent
		v.Session.Consent.Text = consentText(ts, sessionLanguage(sess, ts))
	}
	if g.Authentication != AuthNotRequired {
		v.Gates.Method = ts.CustomerAuthentication
	}
	if admits(sess, p) && sess.Tasks != nil {
		v.Session.Tasks = sess.Tasks
	}
	if a, err := s.store.Agent(ctx, sess.AgentID); err == nil {
		v.Agent = a.Name
	}
	if t, err := s.store.Team(ctx, orDefault(sess.TeamID, sess.SettingsTeamID)); err == nil {
		v.Team = t.Name
	}
	return v, nil
}

// NewLinkSent says where a customer's new link went, masked.
type NewLinkSent struct {
	Sent    bool   `json:"sent"`
	Channel string `json:"channel"`
	To      string `json:"to"`
}

// RequestNewLink re-sends a fresh link to the contact on file when the
// customer's link expired (or is about to). The link itself is never
// returned: only the contact on file receives it.
func (s *GateService) RequestNewLink(ctx context.Context, token, ip string) (*NewLinkSent, error) {
	sess, _, err := s.CheckLink(ctx, token)
	if err != nil && !errors.Is(err, ErrLinkExpired) {
		return nil, err
	}
	set, _, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return nil, err
	}
	if set.InvitationMode == InviteExternal {
		return nil, fmt.Errorf("%w: your agent sends links; please contact them", ErrInvalidState)
	}
	if err := s.ipAllows(ctx, "new-link", ip); err != nil {
		return nil, err
	}
	if _, _, err := s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		return nil, reserveSend(&cur.Internal.LinksResent, s.now(), NewLinksPerDay, "new links")
	}); err != nil {
		return nil, err
	}
	s.ipCount(ctx, "new-link", ip)
	agentName := ""
	if a, err := s.store.Agent(ctx, sess.AgentID); err == nil {
		agentName = a.Name
	}
	inv, exp := s.deliver(ctx, sess, agentName)
	cur, _, err := s.update(ctx, sess.ID, func(cur *Session) ([]Event, error) {
		cur.Invitations = append(cur.Invitations, inv)
		linkExpiry(cur, exp)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	s.announceInvitation(ctx, cur, inv)
	s.nudge(ctx, cur)
	if inv.Status != InviteSent {
		return nil, fmt.Errorf("%w: the new link could not be delivered", ErrUnavailable)
	}
	return &NewLinkSent{Sent: true, Channel: inv.Channel, To: notify.Mask(inv.To)}, nil
}

// CustomerJoined records a customer's entry into the room; the first one
// logs customer.joined and marks the session updated for its agent.
func (s *GateService) CustomerJoined(ctx context.Context, id string) (*Session, error) {
	sess, _, err := s.update(ctx, id, func(cur *Session) ([]Event, error) {
		now := s.now()
		cur.Internal.LastSeenAt = &now
		if cur.Internal.Joined {
			return nil, nil
		}
		cur.Internal.Joined = true
		cur.Updated = true
		cur.UpdatedAt = now
		return []Event{{Type: EventCustomerJoined, At: now, From: &Actor{Role: "customer", Name: cur.Customer.Name}}}, nil
	})
	return sess, err
}

// CompleteTask records a customer's completed custom task (one they
// mark done); it marks the session updated for its agent.
func (s *GateService) CompleteTask(ctx context.Context, id, taskID string, result json.RawMessage) (*Session, error) {
	sess, _, err := s.update(ctx, id, func(cur *Session) ([]Event, error) {
		if err := s.mayWrite(cur, "customer", s.now()); err != nil {
			return nil, err
		}
		i := taskIndex(cur.Tasks, taskID)
		if i < 0 {
			return nil, ErrNotFound
		}
		if cur.Tasks[i].Status == TaskCompleted {
			return nil, fmt.Errorf("%w: the task is already completed", ErrInvalidState)
		}
		if cur.Tasks[i].Kind != "custom" {
			// Signing, forms, uploads and consents complete through their
			// own routes, which keep what the customer produced.
			return nil, fmt.Errorf("%w: a %s task is completed by doing it, not marked done", ErrInvalidState, cur.Tasks[i].Kind)
		}
		now := s.now()
		cur.Tasks[i].Status, cur.Tasks[i].CompletedAt, cur.Tasks[i].Result = TaskCompleted, &now, result
		cur.Updated, cur.UpdatedAt = true, now
		done := cur.Tasks[i]
		return []Event{{Type: EventTaskCompleted, At: now, From: &Actor{Role: "customer", Name: cur.Customer.Name}, Task: &done}}, nil
	})
	return sess, err
}

// CustomerRoomView is the customer's snapshot for a room join (the
// customer was admitted with CustomerAuth).
func (s *GateService) CustomerRoomView(ctx context.Context, id string, c LinkClaims, customerToken string) (*CustomerView, error) {
	sess, err := s.store.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.customerView(ctx, sess, c, s.readPass(sess, customerToken))
}
