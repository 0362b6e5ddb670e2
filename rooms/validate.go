package rooms

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// pinPattern is what a new PIN must be: with the escalating lockout a
// 6-digit PIN leaves 15 guesses in a million before an agent is involved.
var pinPattern = regexp.MustCompile(`^[0-9]{6,12}$`)

// normalizeCustomer trims and validates contacts, turning the phone to
// E.164. builtin requires exactly one contact; external one or both.
func normalizeCustomer(c Customer, set Settings, f problems) Customer {
	c.Name = strings.TrimSpace(c.Name)
	c.Email = strings.TrimSpace(c.Email)
	c.Phone = strings.TrimSpace(c.Phone)
	if utf8.RuneCountInString(c.Name) > maxNameLen {
		f.add("customer.name", "must be at most 200 characters")
	}
	checkName(c.Name, "customer.name", f)
	if c.Email != "" && !validEmail(c.Email) {
		f.add("customer.email", "must be an email address such as jane@example.com")
	}
	if c.Phone != "" {
		e164, ok := normalizePhone(c.Phone, set.PhoneDefaultRegion)
		if !ok {
			f.add("customer.phone", "must be a phone number, such as +14155550123")
		}
		c.Phone = e164
	}
	c.PhoneDisplay = phoneDisplay(c.Phone)
	switch {
	case c.Email == "" && c.Phone == "":
		f.add("customer", "give an email or a phone")
	case set.InvitationMode == InviteBuiltin && c.Email != "" && c.Phone != "":
		f.add("customer", "give an email or a phone, not both: the invitation goes to one")
	}
	return c
}

// normalizePhone turns a phone to E.164. Some numbers (runs of leading
// zeros, say) give an E.164 string that reads back as another number:
// such a phone would change each time it is saved, and is refused. So is
// one over E.164's 15 digits, which the library deems possible in some
// regions but no SMS provider takes.
func normalizePhone(s, region string) (string, bool) {
	if region == "" {
		region = "US"
	}
	out, ok := toE164(s, region)
	if !ok || len(out) > len("+")+15 {
		return s, false
	}
	if again, ok := toE164(out, region); !ok || again != out {
		return s, false
	}
	return out, true
}

// phoneDisplay writes an E.164 number as people read it: its country
// code, then the national grouping, in spaces ("+1 415 555 0144").
func phoneDisplay(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if e164 == "" || err != nil {
		return ""
	}
	return strings.ReplaceAll(phonenumbers.Format(n, phonenumbers.INTERNATIONAL), "-", " ")
}

func toE164(s, region string) (string, bool) {
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

func validTask(t TaskTemplate, path string, f problems) TaskTemplate {
	t.Title = strings.TrimSpace(t.Title)
	if !slices.Contains(TaskKinds, t.Kind) {
		f.add(path+".kind", "must be one of sign, form, consent, upload, custom")
	}
	if t.Title == "" {
		f.add(path+".title", "is required")
	} else if utf8.RuneCountInString(t.Title) > maxTitleLen {
		f.add(path+".title", "must be at most 200 characters")
	}
	t.TaskContent = validContent(t.Kind, t.TaskContent, path, f)
	if t.Kind != "sign" {
		t.Document = nil
	}
	return t
}

// ValidateSettings checks org settings.
func ValidateSettings(s Settings) error {
	f := problems{}
	if s.InvitationMode != InviteBuiltin && s.InvitationMode != InviteExternal {
		f.add("invitation_mode", "must be builtin or external")
	}
	validEndAccess(s.EndSessionAccess, "end_session_access", f)
	if s.AutoEndAfter != 0 && (s.AutoEndAfter < minDuration || s.AutoEndAfter > maxDuration) {
		f.add("auto_end_after", `must be 0s (off) or between 1 minute ("1m") and 1 year ("8760h")`)
	}
	checkDuration(s.CustomerAccessDuration, "customer_access_duration", f)
	if s.AssetRetentionDays < 0 || s.AssetRetentionDays > 3650 {
		f.add("asset_retention_days", "must be between 0 (keep) and 3650")
	}
	if s.HistoryDays < 1 || s.HistoryDays > 3650 {
		f.add("history_days", "must be between 1 and 3650")
	}
	if !slices.Contains([]string{ScopeMine, ScopeTeam, ScopeAll}, s.HistorySearchSpace) {
		f.add("history_search_space", "must be mine, team or all")
	}
	if phonenumbers.GetCountryCodeForRegion(s.PhoneDefaultRegion) == 0 {
		f.add("phone_default_region", "must be a two-letter region code such as US")
	}
	return f.asError()
}

func validEndAccess(a EndAccess, path string, f problems) {
	switch a.Mode {
	case AccessNone, AccessFull:
	case AccessFullFor, AccessLimitedFor:
		if a.Duration == 0 {
			f.add(path+".duration", "is required for full_for and limited_for")
		}
		checkDuration(a.Duration, path+".duration", f)
	default:
		f.add(path+".mode", "must be none, full, full_for or limited_for")
	}
}

// ValidateTeam checks a team's name and settings.
func ValidateTeam(t *Team) error {
	f := problems{}
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || utf8.RuneCountInString(t.Name) > maxNameLen {
		f.add("name", "is required, at most 200 characters")
	}
	checkName(t.Name, "name", f)
	s := &t.Settings
	if len(s.TaskTemplates) > maxTemplates {
		f.add("settings.task_templates", "at most 50 templates")
	}
	for i, tt := range s.TaskTemplates {
		s.TaskTemplates[i] = validTask(tt, "settings.task_templates["+strconv.Itoa(i)+"]", f)
	}
	if !slices.Contains([]string{"none", "otp", "pin"}, s.CustomerAuthentication) {
		f.add("settings.customer_authentication", "must be none, otp or pin")
	}
	if s.Consent.Required && strings.TrimSpace(s.Consent.Text) == "" {
		f.add("settings.consent.text", "is required when consent is required")
	}
	validTemplates(s.Templates, f)
	checkLanguage(s.Language, "settings.language", f)
	validTranslations(*s, f)
	if s.CustomerAccessDuration != nil {
		checkDuration(*s.CustomerAccessDuration, "settings.customer_access_duration", f)
	}
	if s.EndSessionAccess != nil {
		validEndAccess(*s.EndSessionAccess, "settings.end_session_access", f)
	}
	return f.asError()
}

func validTemplates(t Templates, f problems) {
	for path, v := range map[string]string{
		"settings.templates.email_subject": t.EmailSubject,
		"settings.templates.email_body":    t.EmailBody,
		"settings.templates.sms_body":      t.SMSBody,
	} {
		if strings.TrimSpace(v) == "" {
			f.add(path, "is required")
		} else if len(v) > MaxTextLen {
			f.add(path, "must be at most 4000 characters")
		}
	}
}
