package rooms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Login limits: failed tries per minute, per account and per client IP.
const (
	loginTries  = 10
	loginWindow = time.Minute
)

// Login checks a password and returns a new opaque login token.
func (s *AccountService) Login(ctx context.Context, email, password, ip string) (string, *Agent, error) {
	email = agentEmail(email)
	if len(email) > maxEmailLen || len(password) > maxPasswordLen {
		return "", nil, ErrBadCredential
	}
	// Each try is counted before its password is checked, atomically:
	// counted after the check, a burst of tries in parallel would all
	// read a count under the limit and be checked.
	keys := loginKeys(email, ip)
	if err := s.countTry(ctx, keys); err != nil {
		return "", nil, err
	}
	a, err := s.store.AgentByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", nil, err
	}
	hash := s.dummyHash
	if a != nil {
		hash = a.PasswordHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || a == nil {
		return "", nil, ErrBadCredential
	}
	// Only failures count toward the limit: a sign-in gives its try back.
	s.untry(ctx, keys)
	if a.Disabled {
		return "", nil, fmt.Errorf("%w: this account is disabled; ask an admin", ErrForbidden)
	}
	// Asked only once the password matched: refusing earlier would tell
	// anyone which emails are agents'.
	if a.Role != RoleAdmin {
		set, err := s.store.Settings(ctx)
		if err != nil {
			return "", nil, err
		}
		if set.SSO.PasswordAdminsOnly {
			return "", nil, ErrPasswordOff
		}
	}
	token, err := s.newLogin(ctx, a)
	return token, a, err
}

// agentEmail is the form an agent's email is kept and looked up in:
// the sign-in finds the account whatever case the admin typed.
func agentEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func loginKeys(email, ip string) []string {
	return []string{"login:acct:" + email, "login:ip:" + ip}
}

// countTry counts a sign-in try under each key and refuses it past
// loginTries in the window.
func (s *AccountService) countTry(ctx context.Context, keys []string) error {
	limited := false
	for _, key := range keys {
		n, err := s.store.Hit(ctx, key, loginWindow)
		if err != nil {
			return err
		}
		limited = limited || n > loginTries
	}
	if limited {
		return ErrRateLimited
	}
	return nil
}

func (s *AccountService) untry(ctx context.Context, keys []string) {
	for _, key := range keys {
		if err := s.store.Unhit(ctx, key); err != nil {
			s.logger(ctx).Warn().Err(err).Msg("login try not given back")
		}
	}
}

// Logout forgets a login token.
func (s *AccountService) Logout(ctx context.Context, token string) error {
	return s.store.DeleteToken(ctx, TokenHash(token))
}

// LogoutAll ends every login of an agent, on every node: open
// connections close at once (OnAgentChanged).
func (s *AccountService) LogoutAll(ctx context.Context, a *Agent) error {
	cur, err := s.store.Agent(ctx, a.ID)
	if err != nil {
		return err
	}
	cur.TokenGen++
	if err := s.store.UpdateAgent(ctx, cur); err != nil {
		return err
	}
	s.agentChanged(cur.ID)
	return nil
}

// Authenticate resolves a login token to its agent: a token of an
// earlier generation (password changed, signed out everywhere) or of a
// disabled agent no longer works.
func (s *AccountService) Authenticate(ctx context.Context, token string) (*Agent, error) {
	if token == "" {
		return nil, ErrBadCredential
	}
	if strings.HasPrefix(token, APIKeyPrefix) {
		return s.keyAgent(ctx, token)
	}
	t, err := s.store.Token(ctx, TokenHash(token))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredential
	}
	if err != nil {
		return nil, err
	}
	a, err := s.store.Agent(ctx, t.AgentID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredential
	}
	if err != nil {
		return nil, err
	}
	if a.Disabled || t.Gen != a.TokenGen {
		return nil, ErrBadCredential
	}
	return a, nil
}

// keyAgent is the agent an API key acts as, with the key's name; a
// revoked key, or one whose agent was disabled or removed, is refused.
func (s *AccountService) keyAgent(ctx context.Context, key string) (*Agent, error) {
	k, err := s.store.APIKeyByHash(ctx, TokenHash(key))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredential
	}
	if err != nil {
		return nil, err
	}
	a, err := s.store.Agent(ctx, k.AgentID)
	if errors.Is(err, ErrNotFound) || (err == nil && a.Disabled) {
		return nil, ErrBadCredential
	}
	if err != nil {
		return nil, err
	}
	if err := s.store.TouchAPIKey(ctx, k.ID, s.now()); err != nil {
		s.logger(ctx).Warn().Err(err).Str("api_key", k.Name).Msg("api key's last use not recorded")
	}
	a.APIKey = k.Name
	return a, nil
}

// TokenHash is how a login token is kept: never the token itself.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AgentInput is an agent as an admin creates or replaces it.
type AgentInput struct {
	Agent
	Password string `json:"password,omitempty"`
}

// CreateAgent adds an agent account.
func (s *AccountService) CreateAgent(ctx context.Context, in AgentInput) (*Agent, error) {
	in.ID = newID("a_")
	a, err := s.checkAgent(ctx, in, true)
	if err != nil {
		return nil, err
	}
	return a, s.store.CreateAgent(ctx, a)
}

// UpdateAgent replaces an agent; an empty password keeps the old one. A
// new password or disabling the agent ends every login they have; any
// change makes their open connections check their access again at once.
func (s *AccountService) UpdateAgent(ctx context.Context, id string, in AgentInput) (*Agent, error) {
	old, err := s.store.Agent(ctx, id)
	if err != nil {
		return nil, err
	}
	in.ID = id
	a, err := s.checkAgent(ctx, in, false)
	if err != nil {
		return nil, err
	}
	a.TokenGen = old.TokenGen
	if in.Password == "" {
		a.PasswordHash = old.PasswordHash
	}
	if in.Password != "" || (a.Disabled && !old.Disabled) {
		a.TokenGen++
	}
	if err := s.store.UpdateAgent(ctx, a); err != nil {
		return nil, err
	}
	s.agentChanged(id)
	return a, nil
}

func (s *AccountService) checkAgent(ctx context.Context, in AgentInput, create bool) (*Agent, error) {
	f := problems{}
	a := in.Agent
	a.Email = agentEmail(a.Email)
	a.Name = strings.TrimSpace(a.Name)
	if !validEmail(a.Email) {
		f.add("email", "must be an email address")
	}
	if a.Name == "" || utf8.RuneCountInString(a.Name) > maxNameLen {
		f.add("name", "is required, at most 200 characters")
	}
	checkName(a.Name, "name", f)
	if !slices.Contains([]string{RoleAgent, RoleSupervisor, RoleAdmin}, a.Role) {
		f.add("role", "must be agent, supervisor or admin")
	}
	if (create || in.Password != "") && utf8.RuneCountInString(in.Password) < minPassword {
		f.add("password", "must be at least 10 characters")
	} else if len(in.Password) > maxPasswordLen {
		f.add("password", "must be at most 72 bytes")
	}
	if err := s.checkTeams(ctx, &a, f); err != nil {
		return nil, err
	}
	if err := f.asError(); err != nil {
		return nil, err
	}
	if in.Password != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(in.Password), s.cfg.BcryptCost)
		if err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
		a.PasswordHash = h
	}
	return &a, nil
}

func (s *AccountService) checkTeams(ctx context.Context, a *Agent, f problems) error {
	if a.TeamID == "" && a.Role != RoleAdmin {
		f.add("team_id", "is required for agents and supervisors")
	}
	if a.SettingsTeamIDs == nil {
		a.SettingsTeamIDs = []string{}
	}
	check := append([]string{a.TeamID}, a.SettingsTeamIDs...)
	for i, id := range check {
		if id == "" {
			continue
		}
		if _, err := s.store.Team(ctx, id); errors.Is(err, ErrNotFound) {
			path := "team_id"
			if i > 0 {
				path = fmt.Sprintf("settings_team_ids[%d]", i-1)
			}
			f.add(path, "no such team")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreateTeam adds a team; unset settings take the defaults.
func (s *AccountService) CreateTeam(ctx context.Context, name string, set *TeamSettings) (*Team, error) {
	t := &Team{ID: newID("t_"), Name: name, Settings: DefaultTeamSettings()}
	if set != nil {
		t.Settings = *set
	}
	dropDocuments(&t.Settings)
	if err := s.validateTeam(ctx, t); err != nil {
		return nil, err
	}
	return t, s.store.PutTeam(ctx, t)
}

// UpdateTeam replaces a team's name and settings.
func (s *AccountService) UpdateTeam(ctx context.Context, t *Team) (*Team, error) {
	old, err := s.store.Team(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	keepDocuments(old, t)
	if err := s.validateTeam(ctx, t); err != nil {
		return nil, err
	}
	if err := s.store.PutTeam(ctx, t); err != nil {
		return nil, err
	}
	s.files.dropUnheld(old, t)
	if !reflect.DeepEqual(old.Settings.Followups, t.Settings.Followups) {
		s.rescheduleOpen(ctx)
	}
	return t.Public(), nil
}

// validateTeam is ValidateTeam plus what needs the store: no other team
// may have the same name, ignoring case and surrounding spaces, since
// admins and agents pick teams by name. Two admins creating the same name
// at the same instant can both pass: there is no name guard in the store.
func (s *AccountService) validateTeam(ctx context.Context, t *Team) error {
	f := problems{}
	var ve *ValidationError
	if err := ValidateTeam(t); errors.As(err, &ve) {
		f = ve.Fields
	} else if err != nil {
		return err
	}
	if t.Settings.Followups != nil {
		validFollowups(*t.Settings.Followups, "settings.followups", s.cfg.FollowupMinDelay, f)
	}
	teams, err := s.store.ListTeams(ctx)
	if err != nil {
		return err
	}
	for _, other := range teams {
		name := strings.TrimSpace(other.Name)
		if other.ID != t.ID && t.Name != "" && strings.EqualFold(name, t.Name) {
			f.add("name", fmt.Sprintf("another team is called %q", name))
		}
	}
	return f.asError()
}

// PutSettings replaces the org settings.
func (s *AccountService) PutSettings(ctx context.Context, set Settings) (Settings, error) {
	set.PhoneDefaultRegion = strings.ToUpper(set.PhoneDefaultRegion)
	if set.EndSessionAccess.Mode == AccessNone || set.EndSessionAccess.Mode == AccessFull {
		set.EndSessionAccess.Duration = 0
	}
	f := problems{}
	var ve *ValidationError
	if err := ValidateSettings(set); errors.As(err, &ve) {
		f = ve.Fields
	} else if err != nil {
		return Settings{}, err
	}
	set.Followups = withFollowupDefaults(set.Followups)
	validFollowups(set.Followups, "followups", s.cfg.FollowupMinDelay, f)
	if err := s.checkSSOSettings(ctx, set.SSO, f); err != nil {
		return Settings{}, err
	}
	if err := f.asError(); err != nil {
		return Settings{}, err
	}
	old, err := s.store.Settings(ctx)
	if err != nil {
		return Settings{}, err
	}
	if err := s.store.PutSettings(ctx, set); err != nil {
		return Settings{}, err
	}
	if !reflect.DeepEqual(old.Followups, set.Followups) {
		s.rescheduleOpen(ctx)
	}
	return set, nil
}

// SettingsTeams lists the teams whose settings an agent may use for a
// session: every team for an admin, else the home team and those granted.
func (s *AccountService) SettingsTeams(ctx context.Context, a *Agent) ([]*Team, error) {
	teams, err := s.store.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	out := teams[:0]
	for _, t := range teams {
		if mayUseSettingsTeam(a, t.ID) {
			out = append(out, t)
		}
	}
	return out, nil
}
