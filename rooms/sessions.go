package rooms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// CreateRequest starts or pre-plans a session.
type CreateRequest struct {
	Mode           string         `json:"mode"`
	Customer       Customer       `json:"customer"`
	SettingsTeamID string         `json:"settings_team_id"`
	PIN            string         `json:"pin"`
	Tasks          []TaskTemplate `json:"tasks"`
	// Language is the customer's language; empty: the team's, else
	// their browser's.
	Language string `json:"language"`
}

// Create starts a session (the invitation goes out at once) or pre-plans one.
func (s *SessionService) Create(ctx context.Context, a *Agent, req CreateRequest) (*Session, error) {
	sess, err := s.newSession(ctx, a, req)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Commit(ctx, sess, nil, CommitOptions{}); err != nil {
		return nil, err
	}
	s.announce(ctx, AnnounceCreated, sess, nil)
	if sess.State == StateActive {
		return s.sendInvitation(ctx, sess, a)
	}
	s.withIndicators(ctx, sess)
	return sess, nil
}

func (s *SessionService) newSession(ctx context.Context, a *Agent, req CreateRequest) (*Session, error) {
	f := problems{}
	if req.Mode != "start" && req.Mode != "preplan" {
		f.add("mode", "must be start or preplan")
	}
	teamID := req.SettingsTeamID
	if teamID == "" {
		teamID = a.TeamID
	} else if err := s.checkSettingsTeam(ctx, a, teamID, f); err != nil {
		return nil, err
	}
	set, ts, err := s.effective(ctx, teamID)
	if err != nil {
		return nil, err
	}
	cust := normalizeCustomer(req.Customer, set, f)
	if len(req.Tasks) > maxTasks {
		f.add("tasks", "at most 100 tasks")
	}
	now := s.now()
	tasks := make([]Task, 0, len(req.Tasks))
	for i, t := range req.Tasks {
		t = validTask(t, fmt.Sprintf("tasks[%d]", i), f)
		tasks = append(tasks, newTask(t, now))
	}
	checkLanguage(req.Language, "language", f)
	pinHash := s.checkPIN(req.PIN, ts, f)
	var pinSealed []byte
	if pinHash != nil {
		pinSealed = sealPIN(s.cfg.Secret, req.PIN)
	}
	if err := f.asError(); err != nil {
		return nil, err
	}
	if err := checkSMS(cust, set); err != nil {
		return nil, err
	}
	state := StateActive
	if req.Mode == "preplan" {
		state = StatePlanned
	}
	return &Session{
		ID: newID("s_"), State: state, Mode: req.Mode, AgentID: a.ID, TeamID: a.TeamID,
		SettingsTeamID: teamID, Customer: cust, Tasks: tasks, Invitations: []Invitation{},
		CreatedAt: now, UpdatedAt: now, Language: req.Language,
		Internal: SessionInternal{
			LinkGen: 1, PINHash: pinHash, PINSealed: pinSealed, LastAgentAt: now,
			Authentication: authStart(ts), Consent: consentStart(ts),
		},
	}, nil
}

func (s *SessionService) checkSettingsTeam(ctx context.Context, a *Agent, teamID string, f problems) error {
	if _, err := s.store.Team(ctx, teamID); errors.Is(err, ErrNotFound) {
		f.add("settings_team_id", "no such team")
		return nil
	} else if err != nil {
		return err
	}
	if !mayUseSettingsTeam(a, teamID) {
		f.add("settings_team_id", "you may not use this team's settings")
	}
	return nil
}

// checkPIN validates and hashes the session PIN a pin-gated team needs.
func (s *SessionService) checkPIN(pin string, ts TeamSettings, f problems) []byte {
	if pin == "" {
		if ts.CustomerAuthentication == "pin" {
			f.add("pin", "is required: this team's customers authenticate with a PIN")
		}
		return nil
	}
	if !pinPattern.MatchString(pin) {
		f.add("pin", "must be 6 to 12 digits")
		return nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), s.cfg.BcryptCost)
	if err != nil {
		f.add("pin", "could not be stored")
	}
	return h
}

// checkSMS refuses a phone invitation when SMS is off.
func checkSMS(c Customer, set Settings) error {
	if set.InvitationMode == InviteBuiltin && !set.SMSEnabled && c.Phone != "" {
		return ErrSMSDisabled
	}
	return nil
}

func authStart(ts TeamSettings) string {
	if ts.CustomerAuthentication == "otp" || ts.CustomerAuthentication == "pin" {
		return AuthPending
	}
	return AuthNotRequired
}

func consentStart(ts TeamSettings) string {
	if ts.Consent.Required {
		return ConsentPending
	}
	return ConsentNotRequested
}

// Show returns a session the agent may see, with its live indicator. It
// changes nothing (it serves a GET): "updated" is cleared by Seen.
func (s *SessionService) Show(ctx context.Context, a *Agent, id string) (*Session, error) {
	sess, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	s.withIndicators(ctx, sess)
	s.showFollowups(ctx, sess, false)
	return sess, nil
}

// PIN returns a session's PIN to the agent who set it, so they can tell
// the customer again; nobody else may read it, and each reading is
// logged (without the PIN).
func (s *SessionService) PIN(ctx context.Context, a *Agent, id string) (string, error) {
	sess, err := s.visible(ctx, a, id)
	if err != nil {
		return "", err
	}
	if sess.AgentID != a.ID {
		return "", ErrForbidden
	}
	pin, ok := openPIN(s.cfg.Secret, sess.Internal.PINSealed)
	if !ok {
		return "", fmt.Errorf("%w: this session has no PIN to show", ErrInvalidState)
	}
	s.log.Info().Str("session", id).Str("agent", a.ID).Msg("session PIN shown to its agent")
	return pin, nil
}

// Seen records that an agent who may open the session's room has looked
// at it: the session's own agent clears its "updated" mark (a supervisor
// or admin looking in leaves it for them). It returns the session with
// its indicator.
func (s *SessionService) Seen(ctx context.Context, a *Agent, id string) (*Session, error) {
	sess, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !CanAct(a, sess) {
		return nil, ErrForbidden
	}
	if sess.Updated && sess.AgentID == a.ID {
		sess, _, err = s.commit(ctx, sess, id, CommitOptions{ClearUpdated: true}, func(cur *Session) ([]Event, error) {
			cur.Updated = false
			return nil, nil
		})
		if err != nil {
			return nil, err
		}
	}
	s.withIndicators(ctx, sess)
	s.showFollowups(ctx, sess, false)
	return sess, nil
}

// Invite sends a planned session's invitation and makes it active.
func (s *SessionService) Invite(ctx context.Context, a *Agent, id string) (*Session, error) {
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		if cur.State != StatePlanned {
			return nil, fmt.Errorf("%w: only a planned session can be invited", ErrInvalidState)
		}
		set, _, err := s.effective(ctx, cur.SettingsTeamID)
		if err != nil {
			return nil, err
		}
		if err := checkSMS(cur.Customer, set); err != nil {
			return nil, err
		}
		cur.State = StateActive
		cur.UpdatedAt = s.now()
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	s.announce(ctx, AnnounceInvited, sess, nil)
	return s.sendInvitation(ctx, sess, a)
}

// AddTask assigns a task to the customer.
// A task from a sign template that carries a PDF gets its own copy of
// it, stored before the task is assigned, so later changes to the
// template leave the session as it was.
func (s *SessionService) AddTask(ctx context.Context, a *Agent, id string, req TaskRequest) (*Task, error) {
	doc, err := s.files.templateCopy(ctx, a, id, req)
	if err != nil {
		return nil, err
	}
	var task Task
	_, _, err = s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		if cur.State == StateEnded {
			return nil, fmt.Errorf("%w: the session has ended", ErrInvalidState)
		}
		tt, err := s.taskFromRequest(ctx, cur, req)
		if err != nil {
			return nil, err
		}
		if len(cur.Tasks) >= maxTasks {
			return nil, &ValidationError{Fields: map[string]string{"tasks": "at most 100 tasks in a session"}}
		}
		task = newTask(tt, s.now())
		if doc != nil && tt.Kind == "sign" {
			task.ID, task.DocumentID = doc.TaskID, doc.ID
		}
		cur.Tasks = append(cur.Tasks, task)
		return []Event{{Type: EventTaskAssigned, At: s.now(), From: agentActor(a), Task: &task}}, nil
	})
	if err != nil {
		s.files.discard(doc)
		return nil, err
	}
	if doc != nil && task.DocumentID == "" {
		s.files.discard(doc) // the template changed kind meanwhile
	}
	return &task, nil
}

func (s *SessionService) taskFromRequest(ctx context.Context, cur *Session, req TaskRequest) (TaskTemplate, error) {
	f := problems{}
	if req.Template == nil {
		t := validTask(TaskTemplate{Kind: req.Kind, Title: req.Title, TaskContent: req.TaskContent}, "task", f)
		return trimPath(t, f)
	}
	if req.Kind != "" || req.Title != "" || req.Fields != nil || req.Instructions != "" || req.Text != "" {
		f.add("template", "give a template or a kind and title, not both")
		return TaskTemplate{}, f.asError()
	}
	_, ts, err := s.effective(ctx, cur.SettingsTeamID)
	if err != nil {
		return TaskTemplate{}, err
	}
	if *req.Template < 0 || *req.Template >= len(ts.TaskTemplates) {
		f.add("template", "no such template in this session's settings team")
		return TaskTemplate{}, f.asError()
	}
	return ts.TaskTemplates[*req.Template], nil
}

func newTask(t TaskTemplate, now time.Time) Task {
	return Task{ID: newID("k_"), Kind: t.Kind, Title: t.Title, Status: TaskPending, AssignedAt: now, TaskContent: t.TaskContent}
}

// trimPath reports a single task's errors as "kind" and "title".
func trimPath(t TaskTemplate, f problems) (TaskTemplate, error) {
	if len(f) == 0 {
		return t, nil
	}
	out := problems{}
	for k, v := range f {
		out[strings.TrimPrefix(k, "task.")] = v
	}
	return t, out.asError()
}

// WithdrawTask removes a pending task.
func (s *SessionService) WithdrawTask(ctx context.Context, a *Agent, id, taskID string) (*Session, error) {
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		if cur.State == StateEnded {
			return nil, fmt.Errorf("%w: the session has ended", ErrInvalidState)
		}
		i := taskIndex(cur.Tasks, taskID)
		if i < 0 {
			return nil, ErrNotFound
		}
		if cur.Tasks[i].Status == TaskCompleted {
			return nil, fmt.Errorf("%w: a completed task cannot be withdrawn", ErrInvalidState)
		}
		cur.Tasks = append(cur.Tasks[:i], cur.Tasks[i+1:]...)
		return []Event{{Type: EventTaskWithdrawn, At: s.now(), From: agentActor(a), TaskID: taskID}}, nil
	})
	if err != nil {
		return nil, err
	}
	s.withIndicators(ctx, sess)
	return sess, nil
}

// NewLink generates a fresh customer link for an active session; earlier
// links keep working.
func (s *SessionService) NewLink(ctx context.Context, a *Agent, id string) (Link, error) {
	var link Link
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		if cur.State != StateActive {
			return nil, fmt.Errorf("%w: links are generated for active sessions only", ErrInvalidState)
		}
		set, _, err := s.effective(ctx, cur.SettingsTeamID)
		if err != nil {
			return nil, err
		}
		link = s.signedLink(cur, set)
		linkExpiry(cur, &link.ExpiresAt)
		return nil, nil
	})
	if err != nil {
		return Link{}, err
	}
	s.nudge(ctx, sess)
	return link, nil
}

// Reengage fixes the customer's details before they ever joined: earlier
// links stop working and, for an active session, the invitation is re-sent.
func (s *SessionService) Reengage(ctx context.Context, a *Agent, id string, c Customer) (*Session, error) {
	return s.ReengageIn(ctx, a, id, c, nil)
}

// ReengageIn is Reengage that also changes the customer's language when
// lang is given.
func (s *SessionService) ReengageIn(ctx context.Context, a *Agent, id string, c Customer, lang *string) (*Session, error) {
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		if cur.State == StateEnded {
			return nil, fmt.Errorf("%w: an ended session cannot be re-engaged", ErrInvalidState)
		}
		if cur.Internal.Joined {
			return nil, ErrJoined
		}
		set, _, err := s.effective(ctx, cur.SettingsTeamID)
		if err != nil {
			return nil, err
		}
		f := problems{}
		c = normalizeCustomer(c, set, f)
		if lang != nil {
			checkLanguage(*lang, "language", f)
		}
		if err := f.asError(); err != nil {
			return nil, err
		}
		if err := checkSMS(c, set); err != nil {
			return nil, err
		}
		cur.Customer = c
		if lang != nil {
			cur.Language = *lang
		}
		cur.Internal.LinkGen++
		// The new contact starts afresh: nothing was sent to them, and
		// they never asked to stop. The agent's pause stays.
		fu := &cur.Internal.Followups
		*fu = FollowupState{Paused: fu.Paused, NoticeSeq: fu.NoticeSeq, NoticeAt: fu.NoticeAt}
		cur.LinkExpiresAt = nil
		return []Event{{Type: EventReengaged, At: s.now(), From: agentActor(a)}}, nil
	})
	if err != nil {
		return nil, err
	}
	if sess.State == StateActive {
		return s.sendInvitation(ctx, sess, a)
	}
	s.withIndicators(ctx, sess)
	return sess, nil
}

// End ends a session; the access mode in force is stored with it.
func (s *SessionService) End(ctx context.Context, a *Agent, id string) (*Session, error) {
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		return s.end(ctx, cur, agentActor(a))
	})
	if err != nil {
		return nil, err
	}
	s.withIndicators(ctx, sess)
	return sess, nil
}

func (s *SessionService) end(ctx context.Context, cur *Session, by *Actor) ([]Event, error) {
	if cur.State == StateEnded {
		return nil, fmt.Errorf("%w: the session has already ended", ErrInvalidState)
	}
	set, _, err := s.effective(ctx, cur.SettingsTeamID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	access := set.EndSessionAccess
	if access.Mode == AccessNone || access.Mode == AccessFull {
		access.Duration = 0
	}
	cur.Internal.PrevState = cur.State
	cur.State = StateEnded
	cur.EndedAt = &now
	cur.Access = &access
	cur.UpdatedAt = now
	return []Event{{Type: EventSessionEnded, At: now, From: by, Access: &access}}, nil
}

// Renew makes an ended session what it was before it ended.
func (s *SessionService) Renew(ctx context.Context, a *Agent, id string) (*Session, error) {
	sess, _, err := s.act(ctx, a, id, func(cur *Session) ([]Event, error) {
		if cur.State != StateEnded {
			return nil, fmt.Errorf("%w: only an ended session can be renewed", ErrInvalidState)
		}
		cur.State = orDefault(cur.Internal.PrevState, StateActive)
		cur.Internal.PrevState = ""
		cur.EndedAt = nil
		cur.Access = nil
		return []Event{{Type: EventSessionRenewed, At: s.now(), From: agentActor(a), State: cur.State}}, nil
	})
	if err != nil {
		return nil, err
	}
	s.withIndicators(ctx, sess)
	return sess, nil
}

// Events returns the room log after since. The transcript is the room:
// it follows exactly the rule of the room join (MayOpen), not the wider
// rule of what history may list.
func (s *SessionService) Events(ctx context.Context, a *Agent, id string, since int64, limit int) ([]Event, error) {
	if err := s.MayOpen(ctx, a, id); err != nil {
		return nil, err
	}
	evs, err := s.store.Events(ctx, id, since, limit)
	if evs == nil {
		evs = []Event{}
	}
	return evs, err
}
