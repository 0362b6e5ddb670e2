package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// BootstrapAdmin creates an admin with these credentials when no admin
// exists. Several nodes may start at once: the email guard lets one win.
func (s *AccountService) BootstrapAdmin(ctx context.Context, email, password string) (bool, error) {
	agents, err := s.store.ListAgents(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range agents {
		if a.Role == RoleAdmin {
			return false, nil
		}
	}
	_, err = s.CreateAgent(ctx, AgentInput{Agent: Agent{Email: email, Name: "Administrator", Role: RoleAdmin}, Password: password})
	if errors.Is(err, ErrEmailTaken) {
		return false, nil
	}
	return err == nil, err
}

// DemoLogin is one seeded account, printed at start.
type DemoLogin struct {
	Role, Email, Password string
}

// SeedDemo creates teams Sales and Support, an admin, a supervisor and
// two agents, once per store, and returns their logins (none when the
// store was seeded before).
func (s *AccountService) SeedDemo(ctx context.Context) ([]DemoLogin, error) {
	first, err := s.store.Once(ctx, "demo-seed")
	if err != nil || !first {
		return nil, err
	}
	sales, err := s.CreateTeam(ctx, "Sales", demoTeamSettings("Sign the offer"))
	if err != nil {
		return nil, err
	}
	support, err := s.CreateTeam(ctx, "Support", demoTeamSettings("Verify your identity"))
	if err != nil {
		return nil, err
	}
	people := []struct {
		role, email, name, team string
		settings                []string
	}{
		{RoleAdmin, "admin@cohub.local", "Ada Admin", "", nil},
		{RoleSupervisor, "sam@cohub.local", "Sam Supervisor", sales.ID, []string{support.ID}},
		{RoleAgent, "alex@cohub.local", "Alex Agent", sales.ID, nil},
		{RoleAgent, "riley@cohub.local", "Riley Agent", support.ID, []string{sales.ID}},
	}
	var logins []DemoLogin
	for _, p := range people {
		pw := randomToken()[:16]
		_, err := s.CreateAgent(ctx, AgentInput{Agent: Agent{Email: p.email, Name: p.name, Role: p.role,
			TeamID: p.team, SettingsTeamIDs: p.settings}, Password: pw})
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", p.email, err)
		}
		logins = append(logins, DemoLogin{Role: p.role, Email: p.email, Password: pw})
	}
	return logins, nil
}

func demoTeamSettings(task string) *TeamSettings {
	ts := DefaultTeamSettings()
	ts.TaskTemplates = []TaskTemplate{{Kind: "sign", Title: task}, {Kind: "form", Title: "Fill in your details"},
		{Kind: "consent", Title: "Agree to the terms"}}
	return &ts
}

// EndIdle ends active sessions with no agent activity for the org's
// auto_end_after; it returns how many it ended. Nodes may run it
// concurrently: a session already ended by another node is skipped.
func (s *SessionService) EndIdle(ctx context.Context) (int, error) {
	set, err := s.store.Settings(ctx)
	if err != nil || set.AutoEndAfter <= 0 {
		return 0, err
	}
	ids, err := s.store.Idle(ctx, s.now().Add(-set.AutoEndAfter.Std()), 500)
	if err != nil {
		return 0, err
	}
	ended := 0
	for _, id := range ids {
		_, _, err := s.update(ctx, id, func(cur *Session) ([]Event, error) {
			if cur.State != StateActive || s.now().Sub(cur.Internal.LastAgentAt) < set.AutoEndAfter.Std() {
				return nil, ErrInvalidState
			}
			return s.end(ctx, cur, &Actor{Role: "system", Name: "auto-end"})
		})
		if err == nil {
			ended++
		} else if !errors.Is(err, ErrInvalidState) && !errors.Is(err, ErrNotFound) {
			return ended, err
		}
	}
	return ended, nil
}

// RunAutoEnd calls EndIdle every interval until ctx ends.
func (s *SessionService) RunAutoEnd(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.EndIdle(ctx); err != nil {
				s.log.Warn().Err(err).Msg("auto-end sweep failed")
			} else if n > 0 {
				s.log.Info().Int("ended", n).Msg("auto-ended idle sessions")
			}
		}
	}
}
