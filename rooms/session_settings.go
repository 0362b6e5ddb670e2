package rooms

import "context"

// TeamRef names a team.
type TeamRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SessionSettings are the settings a session runs under, merged from the
// org and its settings team, as the console's room needs them: the task
// templates to assign from, how the customer authenticates and consents,
// and what the customer keeps when the session ends.
type SessionSettings struct {
	Team                   TeamRef        `json:"team"`
	TaskTemplates          []TaskTemplate `json:"task_templates"`
	CustomerAuthentication string         `json:"customer_authentication"`
	Consent                ConsentSetting `json:"consent"`
	EndSessionAccess       EndAccess      `json:"end_session_access"`
	CustomerAccessDuration Duration       `json:"customer_access_duration"`
	InvitationMode         string         `json:"invitation_mode"`
	SMSEnabled             bool           `json:"sms_enabled"`
}

// SessionSettings returns the settings in force for a session, to those
// who may open its room.
func (s *SessionService) SessionSettings(ctx context.Context, a *Agent, id string) (*SessionSettings, error) {
	sess, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !CanAct(a, sess) {
		return nil, ErrForbidden
	}
	set, ts, err := s.effective(ctx, sess.SettingsTeamID)
	if err != nil {
		return nil, err
	}
	out := &SessionSettings{
		Team:          TeamRef{ID: sess.SettingsTeamID},
		TaskTemplates: localTemplates(ts, sessionLanguage(sess, ts), PublicTemplates(ts.TaskTemplates)), CustomerAuthentication: ts.CustomerAuthentication, Consent: ts.Consent,
		EndSessionAccess: set.EndSessionAccess, CustomerAccessDuration: set.CustomerAccessDuration,
		InvitationMode: set.InvitationMode, SMSEnabled: set.SMSEnabled,
	}
	if out.TaskTemplates == nil {
		out.TaskTemplates = []TaskTemplate{}
	}
	if t, err := s.store.Team(ctx, sess.SettingsTeamID); err == nil {
		out.Team.Name = t.Name
	}
	return out, nil
}
