package i18n

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// TestCatalogsMatchEnglish keeps every catalog to English's keys and
// each text to its English text's placeholders: a missing key would
// show English mid-page, a lost {link} would send a message without it.
func TestCatalogsMatchEnglish(t *testing.T) {
	en := catalogs[Default]
	for _, lang := range Languages() {
		c := catalogs[lang]
		for k, v := range en {
			got, ok := c[k]
			if !ok {
				t.Errorf("%s lacks %q", lang, k)
				continue
			}
			if a, b := holes(v), holes(got); a != b {
				t.Errorf("%s %q has placeholders %s, English %s", lang, k, b, a)
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, k)
			}
		}
	}
}

func holes(s string) string {
	h := placeholder.FindAllString(s, -1)
	sort.Strings(h)
	return strings.Join(h, " ")
}

func TestMatch(t *testing.T) {
	for accept, want := range map[string]string{
		"":                        "en",
		"es-MX,es;q=0.9,en;q=0.5": "es",
		"he-IL":                   "he",
		"iw":                      "he",
		"fr-CA;q=0.8, de;q=0.9":   "de",
		"ja-JP":                   "en",
		"not a header ;;; q=abc":  "en",
		"de-AT, en;q=0.1":         "de",
	} {
		if got := Match(accept); got != want {
			t.Errorf("Match(%q) = %q, want %q", accept, got, want)
		}
	}
}

func TestT(t *testing.T) {
	if got := T("en", "message.notice.sms", "agent", "Alex", "link", "https://x/c/1"); got != "Alex sent you a new message: https://x/c/1" {
		t.Errorf("T filled = %q", got)
	}
	if got := T("xx", "language.name"); got != "English" {
		t.Errorf("unknown language falls back to English, got %q", got)
	}
	if got := T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
	if Dir("he") != "rtl" || Dir("en") != "ltr" {
		t.Error("Dir")
	}
}
