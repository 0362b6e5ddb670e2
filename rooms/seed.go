package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cohub/cohub/pdfsign"
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
	sales, err := s.CreateTeam(ctx, "Sales", salesTemplates())
	if err != nil {
		return nil, err
	}
	// The offer to sign is a real PDF, as an admin would upload it.
	if _, err := s.files.SetTemplateDocument(ctx, sales.ID, 0, "loan-offer.pdf", pdfsign.Sample("Loan offer", 2)); err != nil {
		return nil, err
	}
	support, err := s.CreateTeam(ctx, "Support", supportTemplates())
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

// The demo teams' templates teach what each kind is for: a sign task
// with its PDF, a form that asks for something, a consent with its text,
// an upload that says what to send.
var (
	demoDetails = TaskTemplate{Kind: "form", Title: "Fill in your details", TaskContent: TaskContent{Fields: []FormField{
		{Name: "full_name", Label: "Full name", Type: "text", Required: true},
		{Name: "date_of_birth", Label: "Date of birth", Type: "date", Required: true, Max: "2010-12-31"},
		{Name: "address", Label: "Home address", Type: "text", Required: true, Help: "Street, town and postcode"},
	}}}
	demoConsent = TaskTemplate{Kind: "consent", Title: "Agree to the terms", TaskContent: TaskContent{
		Text: "I agree that the bank may keep the documents and answers I share in this session to assess my application, and delete them when it is decided."}}
	demoID = TaskTemplate{Kind: "upload", Title: "Photo of your ID", TaskContent: TaskContent{
		Instructions: "A photo of your passport or ID card: the page with your photo, all four corners showing."}}
)

func salesTemplates() *TeamSettings {
	ts := DefaultTeamSettings()
	ts.TaskTemplates = []TaskTemplate{{Kind: "sign", Title: "Sign the offer"}, demoDetails, demoConsent, demoID}
	return &ts
}

func supportTemplates() *TeamSettings {
	ts := DefaultTeamSettings()
	id := demoID
	id.Title = "Verify your identity"
	ts.TaskTemplates = []TaskTemplate{id, demoDetails, demoConsent}
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
	s.tick(ctx, every, func() {
		if n, err := s.EndIdle(ctx); err != nil {
			s.log.Warn().Err(err).Msg("auto-end sweep failed")
		} else if n > 0 {
			s.log.Info().Int("ended", n).Msg("auto-ended idle sessions")
		}
	})
}
