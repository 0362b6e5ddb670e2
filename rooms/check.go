package rooms

import (
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/cohub/cohub/notify"
)

// Limits on what people type.
const (
	maxNameLen  = 200
	maxTitleLen = 200
	maxTasks    = 100
	MaxTextLen  = 4000
	minPassword = 10
	// maxPasswordLen is bcrypt's limit; longer passwords are refused, not cut.
	maxPasswordLen = 72
	maxEmailLen    = 254
	maxTemplates   = 50
)

// Durations a customer's access and auto-end may take. Under a minute a
// link would lapse before the customer opened it, and a session would
// end while its agent types; over a year a "for a duration" access is
// unlimited in all but name.
const (
	minDuration = Duration(time.Minute)
	maxDuration = Duration(8760 * time.Hour)
)

const durationRange = `must be between 1 minute ("1m") and 1 year ("8760h")`

func checkDuration(d Duration, path string, f problems) {
	if d < minDuration || d > maxDuration {
		f.add(path, durationRange)
	}
}

// checkName refuses a name that could break a line or turn the text
// around it wherever it is shown: invitations, the console, the customer
// page. Leading and trailing spaces (line breaks included) are trimmed
// before, as everywhere.
func checkName(name, path string, f problems) {
	if strings.IndexFunc(name, notify.InlineUnsafe) >= 0 {
		f.add(path, "must not contain line breaks, control characters or text-direction marks")
	}
}

// validEmail takes a bare address a mail server would too. net/mail
// lets any non-ASCII character through, so spaces (a no-break space
// looks like a plain one), control characters and text-direction marks
// are refused here: an address shown to an agent reads as it is.
func validEmail(s string) bool {
	if len(s) > maxEmailLen || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || notify.InlineUnsafe(r) }) >= 0 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}
