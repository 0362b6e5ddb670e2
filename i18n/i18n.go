// Package i18n holds the words a customer reads, in each language Cohub
// speaks: the customer's page, the messages sent to them (invitation,
// reminder, notice) and the server's errors they can see. Each language
// is one JSON catalog of key → text; "{name}" in a text is filled in.
// English is complete by definition; a key another catalog lacks falls
// back to it, and a test keeps every catalog to English's keys.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed catalogs/*.json
var files embed.FS

// Default is the language of last resort.
const Default = "en"

// rtl are the languages written right to left that Cohub may ship.
var rtl = map[string]bool{"he": true, "ar": true, "fa": true, "ur": true}

var (
	catalogs = map[string]map[string]string{}
	langs    []string
	matcher  language.Matcher
)

func init() {
	entries, err := files.ReadDir("catalogs")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		lang := strings.TrimSuffix(e.Name(), ".json")
		b, err := files.ReadFile(path.Join("catalogs", e.Name()))
		if err != nil {
			panic(err)
		}
		c := map[string]string{}
		if err := json.Unmarshal(b, &c); err != nil {
			panic(fmt.Sprintf("i18n: catalog %s: %v", e.Name(), err))
		}
		catalogs[lang] = c
		langs = append(langs, lang)
	}
	// English first: the matcher falls back to its first tag.
	sort.Slice(langs, func(i, j int) bool { return langs[i] == Default || (langs[j] != Default && langs[i] < langs[j]) })
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.Make(l)
	}
	matcher = language.NewMatcher(tags)
}

// Languages are the shipped languages' codes, English first.
func Languages() []string { return append([]string(nil), langs...) }

// Known says whether lang is a shipped language's code.
func Known(lang string) bool { _, ok := catalogs[lang]; return ok }

// Match is the shipped language that best fits an Accept-Language
// header, English when none does.
func Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return langs[i]
}

// Or is lang when it is shipped, else fallback's match.
func Or(lang, fallback string) string {
	if Known(lang) {
		return lang
	}
	if Known(fallback) {
		return fallback
	}
	return Default
}

// Dir is "rtl" for a language written right to left, else "ltr".
func Dir(lang string) string {
	if rtl[lang] {
		return "rtl"
	}
	return "ltr"
}

// Name is the language's name in itself ("Español"), for a switcher.
func Name(lang string) string { return T(lang, "language.name") }

// T is key's text in lang (English when lang lacks it, the key itself
// when English does too), with each {name} of vars' name, value pairs
// filled in.
func T(lang, key string, vars ...string) string {
	s, ok := catalogs[lang][key]
	if !ok {
		if s, ok = catalogs[Default][key]; !ok {
			return key
		}
	}
	if len(vars) < 2 {
		return s
	}
	pairs := make([]string, 0, len(vars))
	for i := 0; i+1 < len(vars); i += 2 {
		pairs = append(pairs, "{"+vars[i]+"}", vars[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Catalog is a copy of lang's whole catalog, with English filling what
// it lacks: what the customer's page is given.
func Catalog(lang string) map[string]string {
	out := make(map[string]string, len(catalogs[Default]))
	for k, v := range catalogs[Default] {
		out[k] = v
	}
	for k, v := range catalogs[lang] {
		out[k] = v
	}
	return out
}

// LanguageName is a shipped language and its name in itself.
type LanguageName struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// PageWords are what the customer's page is given: its language, the
// direction that language is written in, the languages the customer may
// switch to, and the page's texts (the catalog without the messages,
// which only the server sends).
type PageWords struct {
	Lang      string            `json:"lang"`
	Dir       string            `json:"dir"`
	Languages []LanguageName    `json:"languages"`
	Catalog   map[string]string `json:"catalog"`
}

// Page is the customer's page's words in lang (English when lang is not
// shipped).
func Page(lang string) PageWords {
	lang = Or(lang, Default)
	c := Catalog(lang)
	for k := range c {
		if strings.HasPrefix(k, "message.") {
			delete(c, k)
		}
	}
	names := make([]LanguageName, len(langs))
	for i, l := range langs {
		names[i] = LanguageName{Code: l, Name: Name(l)}
	}
	return PageWords{Lang: lang, Dir: Dir(lang), Languages: names, Catalog: c}
}
