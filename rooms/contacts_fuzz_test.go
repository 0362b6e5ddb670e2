package rooms

import (
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cohub/cohub/notify"
)

// fuzzRegions are default regions an org may set; "" is the unset one.
var fuzzRegions = []string{"US", "GB", "DE", "FR", "IT", "IN", "BR", "AR", "MX", "JP", "AU", "CH", ""}

// e164 is at most 15 digits, the first not 0.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// contactSettings lets a customer give both contacts, so each is checked
// on its own.
func contactSettings(region string) Settings {
	set := DefaultSettings()
	set.InvitationMode = InviteExternal
	set.PhoneDefaultRegion = region
	return set
}

// FuzzPhone: a phone that passes is E.164, and normalising it again —
// under any default region, since it now carries its country — gives it
// back unchanged and valid.
func FuzzPhone(f *testing.F) {
	f.Fuzz(func(t *testing.T, phone string, region uint8) {
		set := contactSettings(fuzzRegions[int(region)%len(fuzzRegions)])
		errs := problems{}
		c := normalizeCustomer(Customer{Phone: phone}, set, errs)
		if _, bad := errs["customer.phone"]; bad || c.Phone == "" {
			return
		}
		if !e164.MatchString(c.Phone) {
			t.Fatalf("%q (region %q) normalised to %q, not E.164", phone, set.PhoneDefaultRegion, c.Phone)
		}
		for _, r := range fuzzRegions {
			again := problems{}
			c2 := normalizeCustomer(c, contactSettings(r), again)
			if len(again) > 0 || c2.Phone != c.Phone {
				t.Fatalf("%q (region %q) → %q; again under %q → %q %v",
					phone, set.PhoneDefaultRegion, c.Phone, r, c2.Phone, again)
			}
		}
	})
}

// FuzzEmail: a customer's email that passes is one line of visible text
// that mail parsers read as exactly itself, and passes again unchanged;
// an agent's email is the same after lower-casing, and Login finds it
// from what the admin typed.
func FuzzEmail(f *testing.F) {
	f.Fuzz(func(t *testing.T, email string) {
		set := contactSettings("US")
		errs := problems{}
		c := normalizeCustomer(Customer{Email: email}, set, errs)
		if _, bad := errs["customer.email"]; !bad && c.Email != "" {
			checkEmailShape(t, email, c.Email)
			again := problems{}
			if c2 := normalizeCustomer(c, set, again); len(again) > 0 || c2.Email != c.Email {
				t.Fatalf("%q → %q; again → %q %v", email, c.Email, c2.Email, again)
			}
		}

		a := agentEmail(email)
		if agentEmail(a) != a {
			t.Fatalf("agent email %q → %q → %q: not idempotent", email, a, agentEmail(a))
		}
		if validEmail(a) { // as checkAgent takes it
			checkEmailShape(t, email, a)
			if a != strings.ToLower(a) {
				t.Fatalf("agent email %q → %q: not lower case", email, a)
			}
		}
	})
}

func checkEmailShape(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) || len(out) > maxEmailLen {
		t.Fatalf("%q → %q: not valid UTF-8 or too long", in, out)
	}
	if i := strings.IndexFunc(out, func(r rune) bool { return unicode.IsSpace(r) || notify.InlineUnsafe(r) }); i >= 0 {
		t.Fatalf("%q → %q: passes with a space, control or direction mark at byte %d", in, out, i)
	}
	a, err := mail.ParseAddress(out)
	if err != nil || a.Address != out || a.Name != "" {
		t.Fatalf("%q → %q: a mail parser reads %v, %v", in, out, a, err)
	}
	at := strings.LastIndexByte(out, '@')
	domain := out[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		t.Fatalf("%q → %q: no local part, or no domain with a dot", in, out)
	}
}
