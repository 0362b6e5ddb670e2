package rooms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// SSOStateTTL is how long a sign-in may take at the provider.
const SSOStateTTL = 10 * time.Minute

// Single sign-on's refusals: what the provider vouched for is not enough.
var (
	// ErrEmailUnverified: the provider has not verified the email, so it
	// may not stand for an agent's account.
	ErrEmailUnverified = errors.New("the provider has not verified this email")
	// ErrNoAccount: no agent has the email and the org does not create
	// agents on first sign-in.
	ErrNoAccount = errors.New("no agent has this email")
	// ErrPasswordOff: the org signs agents in through single sign-on;
	// only admins may still use a password.
	ErrPasswordOff = errors.New("password sign-in is turned off for agents and supervisors; sign in with single sign-on")
)

// SSOPending is a sign-in sent to the provider and not yet back: state
// names it, the nonce must come back in the ID token, the verifier is
// PKCE's.
type SSOPending struct {
	State    string `json:"-"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"x"` // unix ms, by the service's clock
}

func (p SSOPending) expiresAt() int64 { return p.Expires }

// SSOIdentity is whom the provider vouches for, its ID token verified.
type SSOIdentity struct {
	Email         string
	EmailVerified bool
	Name          string
}

// SSOService keeps single sign-on's pending sign-ins and signs in the
// agents the provider vouches for. A pending sign-in is kept in the
// store (the callback may reach another node) under its state's hash,
// sealed with a key only the state gives, and is taken once.
type SSOService struct {
	*core
}

// ssoStarts bounds the sign-ins a client IP starts a minute: each is
// kept in the store until it is used or expires.
const ssoStarts = 30

// Begin starts a sign-in for a client IP: a fresh state, nonce and PKCE
// verifier.
func (s *SSOService) Begin(ctx context.Context, ip string) (SSOPending, error) {
	n, err := s.store.Hit(ctx, "sso:ip:"+ip, time.Minute)
	if err != nil {
		return SSOPending{}, err
	}
	if n > ssoStarts {
		return SSOPending{}, ErrRateLimited
	}
	// The verifier is 43 characters of 32 random bytes (RFC 7636 §4.1).
	p := SSOPending{State: randomToken(), Nonce: randomToken(), Verifier: randomToken(),
		Expires: s.now().Add(SSOStateTTL).UnixMilli()}
	sealed, err := seal(ssoState, p.State, p)
	if err != nil {
		return SSOPending{}, err
	}
	return p, s.store.PutTicket(ctx, secretHash(ssoState, p.State), sealed, SSOStateTTL)
}

// Take uses up the pending sign-in of a state: ErrBadCredential for a
// state taken, expired or never given.
func (s *SSOService) Take(ctx context.Context, state string) (SSOPending, error) {
	var p SSOPending
	if err := s.take(ctx, ssoState, state, &p); err != nil {
		return SSOPending{}, err
	}
	p.State = state
	return p, nil
}

// SignIn gives a login token to the enabled agent with the identity's
// verified email, creating them first when the org says so.
func (s *SSOService) SignIn(ctx context.Context, id SSOIdentity) (string, *Agent, error) {
	email := agentEmail(id.Email)
	if !id.EmailVerified {
		return "", nil, ErrEmailUnverified
	}
	if !validEmail(email) {
		return "", nil, fmt.Errorf("%w: the provider gave no email address", ErrNoAccount)
	}
	a, err := s.store.AgentByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		a, err = s.create(ctx, email, id.Name)
	}
	if err != nil {
		return "", nil, err
	}
	if a.Disabled {
		return "", nil, fmt.Errorf("%w: this account is disabled; ask an admin", ErrForbidden)
	}
	token, err := s.newLogin(ctx, a)
	return token, a, err
}

// newLogin keeps a new login token of an agent's and returns it: a
// password's (AccountService.Login) or single sign-on's.
func (s *core) newLogin(ctx context.Context, a *Agent) (string, error) {
	token := randomToken()
	if err := s.store.PutToken(ctx, TokenHash(token), LoginToken{AgentID: a.ID, Gen: a.TokenGen}, s.cfg.TokenTTL); err != nil {
		return "", err
	}
	return token, nil
}

// create makes the agent of a first sign-in, as the org's settings say.
func (s *SSOService) create(ctx context.Context, email, name string) (*Agent, error) {
	set, err := s.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if !set.SSO.CreateAgents {
		return nil, ErrNoAccount
	}
	a := &Agent{ID: newID("a_"), Email: email, Name: ssoName(name, email), Role: set.SSO.Role, TeamID: set.SSO.TeamID,
		SettingsTeamIDs: []string{}}
	// No password: a hash of random bytes nobody knows, until an admin
	// sets one.
	if a.PasswordHash, err = bcrypt.GenerateFromPassword([]byte(randomToken()), s.cfg.BcryptCost); err != nil {
		return nil, err
	}
	if err := s.store.CreateAgent(ctx, a); errors.Is(err, ErrEmailTaken) {
		// Another node's first sign-in of the same agent got there first.
		return s.store.AgentByEmail(ctx, email)
	} else if err != nil {
		return nil, err
	}
	s.logger(ctx).Info().Bool("audit", true).Str("agent", a.ID).Str("role", a.Role).Str("team", a.TeamID).
		Msg("agent created at first single sign-on")
	return a, nil
}

// ssoName is the provider's name for the agent if it is one an admin
// could type, else the email's local part.
func ssoName(name, email string) string {
	name = strings.TrimSpace(name)
	f := problems{}
	checkName(name, "name", f)
	if name == "" || len(f) > 0 || len([]rune(name)) > maxNameLen {
		name, _, _ = strings.Cut(email, "@")
	}
	return name
}

// checkSSOSettings checks who single sign-on creates: an agent or
// supervisor of a team that exists.
func (s *AccountService) checkSSOSettings(ctx context.Context, set SSOSettings, f problems) error {
	if !set.CreateAgents && set.TeamID == "" && set.Role == "" {
		return nil
	}
	if !slices.Contains([]string{RoleAgent, RoleSupervisor}, set.Role) {
		f.add("sso.role", "must be agent or supervisor")
	}
	if set.TeamID == "" {
		f.add("sso.team_id", "is required to create agents")
		return nil
	}
	if _, err := s.store.Team(ctx, set.TeamID); errors.Is(err, ErrNotFound) {
		f.add("sso.team_id", "no such team")
	} else if err != nil {
		return err
	}
	return nil
}
