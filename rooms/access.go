package rooms

import (
	"slices"
	"time"
)

// CanAct reports whether an agent may act on a session: open its room,
// manage tasks and links, re-engage, end and renew.
func CanAct(a *Agent, s *Session) bool {
	switch {
	case a.Role == RoleAdmin:
		return true
	case s.AgentID == a.ID:
		return true
	case a.Role == RoleSupervisor:
		return a.TeamID != "" && s.TeamID == a.TeamID
	}
	return false
}

// scopeRank orders history scopes from narrowest to widest.
var scopeRank = map[string]int{ScopeMine: 0, ScopeTeam: 1, ScopeAll: 2}

// MayAskScope reports whether an agent may ask history for a scope under
// the org's search space; admins are not capped.
func MayAskScope(a *Agent, scope, space string) bool {
	return a.Role == RoleAdmin || scopeRank[scope] <= scopeRank[space]
}

// widestScope is the widest history scope an agent may ask for.
func widestScope(a *Agent, space string) string {
	if a.Role == RoleAdmin {
		return ScopeAll
	}
	return space
}

// inScope reports whether a session falls within a history scope.
func inScope(a *Agent, s *Session, scope string) bool {
	switch scope {
	case ScopeAll:
		return true
	case ScopeTeam:
		return s.AgentID == a.ID || (a.TeamID != "" && s.TeamID == a.TeamID)
	}
	return s.AgentID == a.ID
}

// CanSee reports whether an agent may read a session: one they may act
// on, or one inside the widest history scope they may ask for.
func CanSee(a *Agent, s *Session, space string) bool {
	return CanAct(a, s) || inScope(a, s, widestScope(a, space))
}

// mayUseSettingsTeam reports whether an agent may pick a team's settings.
func mayUseSettingsTeam(a *Agent, teamID string) bool {
	return a.Role == RoleAdmin || teamID == a.TeamID || slices.Contains(a.SettingsTeamIDs, teamID)
}

// Access levels a customer may have.
const (
	AccessLevelFull    = "full"
	AccessLevelLimited = "limited"
)

// CustomerAccess says what the customer may do now: "full", "limited"
// (read-only), or "" when an ended session left them nothing.
func CustomerAccess(s *Session, now time.Time) string {
	if s.State != StateEnded {
		return AccessLevelFull
	}
	if s.Access == nil || s.EndedAt == nil {
		return ""
	}
	within := now.Before(s.EndedAt.Add(s.Access.Duration.Std()))
	switch {
	case s.Access.Mode == AccessFull:
		return AccessLevelFull
	case s.Access.Mode == AccessFullFor && within:
		return AccessLevelFull
	case s.Access.Mode == AccessLimitedFor && within:
		return AccessLevelLimited
	}
	return ""
}
