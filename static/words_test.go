package static

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cohub/cohub/i18n"
)

// customerModules are the customer page's own modules: every word they
// show must come from the catalogs (i18n.js's t), never from the code.
// ui.js, live.js and api.js are shared with the console: the customer
// page renders none of their words (its errors are worded by code).
var customerModules = []string{"js/customer.js", "js/tasks.js", "js/forms.js", "js/i18n.js", "js/language.js", "js/seen.js"}

// wordAttrs are the attributes a person reads (or hears): in an html`…`
// template their value must be an expression, not text.
var wordAttrs = regexp.MustCompile(`(?i)\s(aria-label|aria-description|title|placeholder|alt|label|hint|note)="([^"]*)"`)

var (
	letters = regexp.MustCompile(`\p{L}`)
	// A sentence: a word beside another word or value; or one
	// capitalised word ("Send", "Done.", "Revoke ").
	sentence = regexp.MustCompile(`\p{L}{2,}[.,!?:;…]?\s+\S|\S\s+\p{L}{2,}|^\s*\p{Lu}\p{Ll}+[.!?…:]*\s*$`)
	tag      = regexp.MustCompile(`<[^>]*>`)
	keyLike  = regexp.MustCompile(`^[a-z]+(\.[a-z_]+)+$`)
	// events are the room's event types, which look like keys.
	events = regexp.MustCompile(`^(task\.(assigned|updated|completed|withdrawn)|session\.(ended|renewed))$`)
)

// notWords are the code's strings that read like words and are not
// shown to anyone: HTTP headers, event keys, media queries.
var notWords = map[string]bool{
	"Link ": true, "Authorization": true, "Content-Type": true, "(pointer: coarse)": true,
}

// brand is the product's name, the same in every language.
var brand = regexp.MustCompile(`(\saria-label="Cohub")?>co<span>hub</span>`)

// piece is one literal of a module: a quoted string, or the text of a
// template literal (html`…` or plain) between its expressions.
type piece struct {
	text string
	html bool
	line int
	// start and end bound the literal in the source, its quotes or
	// backticks included; holes are its ${…} (each from "$" to "}").
	start, end int
	holes      [][2]int
}

// literals splits JavaScript source into its string and template text
// pieces, skipping comments and regular expressions. It knows just
// enough of the grammar for the pages' own code.
func literals(src string) []piece {
	l := &lexer{src: src}
	l.code(false)
	return l.out
}

type lexer struct {
	src  string
	i    int
	out  []piece
	last byte // the last significant character of code, for "/"
	word string
	gap  bool // whitespace since word
}

func (l *lexer) line() int { return strings.Count(l.src[:l.i], "\n") + 1 }

// code scans code up to its end, or (inside ${…}) its closing brace.
func (l *lexer) code(inTemplate bool) {
	depth := 0
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case strings.HasPrefix(l.src[l.i:], "//"):
			l.skipTo("\n")
		case strings.HasPrefix(l.src[l.i:], "/*"):
			l.skipTo("*/")
		case c == '"' || c == '\'':
			l.quoted(c)
		case c == '`':
			tagged := l.word == "html"
			l.i++
			l.template(tagged)
		case c == '/' && l.regexAllowed():
			l.regex()
		case c == '{':
			depth++
			l.i++
		case c == '}':
			if depth == 0 && inTemplate {
				l.i++
				return
			}
			depth--
			l.i++
		default:
			l.i++
		}
		if c > ' ' && c != '/' {
			l.last = c
		}
		l.track(c)
	}
}

// track keeps the word just before the scan point: "html" before a
// backtick tags the template; "return" before a slash starts a regex.
func (l *lexer) track(c byte) {
	switch {
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9':
		if l.gap {
			l.word, l.gap = "", false
		}
		l.word += string(c)
	case c <= ' ':
		l.gap = true
	default:
		l.word, l.gap = "", false
	}
}

func (l *lexer) regexAllowed() bool {
	return l.last == 0 || strings.IndexByte("(,=:[!&|?{};+-*%<>~^", l.last) >= 0 || l.word == "return" || l.word == "typeof"
}

func (l *lexer) skipTo(end string) {
	j := strings.Index(l.src[l.i:], end)
	if j < 0 {
		l.i = len(l.src)
		return
	}
	l.i += j + len(end)
}

func (l *lexer) quoted(q byte) {
	line, start := l.line(), l.i
	l.i++
	var b strings.Builder
	for l.i < len(l.src) && l.src[l.i] != q {
		if l.src[l.i] == '\\' {
			l.i++
		}
		if l.i < len(l.src) {
			b.WriteByte(l.src[l.i])
		}
		l.i++
	}
	l.i++
	l.last, l.word = q, ""
	l.out = append(l.out, piece{text: b.String(), line: line, start: start, end: l.i})
}

func (l *lexer) regex() {
	l.i++
	class := false
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == '\\':
			l.i++
		case c == '[':
			class = true
		case c == ']':
			class = false
		case c == '/' && !class:
			l.i++
			l.last, l.word = 'r', ""
			return
		}
		l.i++
	}
}

// hole stands for a template's ${…} in its text: not a letter, so it
// is no word, and it keeps "<${Page} title=…" a tag.
const hole = "\x00"

// template scans a template literal's text, each ${…} as code.
func (l *lexer) template(html bool) {
	var b strings.Builder
	var holes [][2]int
	line, start := l.line(), l.i-1
	flush := func() {
		l.out = append(l.out, piece{text: b.String(), html: html, line: line, start: start, end: l.i, holes: holes})
	}
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == '\\':
			l.i++
			if l.i < len(l.src) {
				b.WriteByte(l.src[l.i])
			}
			l.i++
		case c == '`':
			l.i++
			flush()
			l.last, l.word = '`', ""
			return
		case strings.HasPrefix(l.src[l.i:], "${"):
			b.WriteString(hole)
			from := l.i
			l.i += 2
			l.last, l.word = '{', ""
			l.code(true)
			holes = append(holes, [2]int{from, l.i})
		default:
			b.WriteByte(c)
			l.i++
		}
	}
}

// literalWords are the human words a module's literals hold.
func literalWords(src string) []string { return literalWordsBut(src, notWords) }

// literalWordsBut is literalWords with a page's own allowlist of
// strings that read like words and are not shown.
func literalWordsBut(src string, allowed map[string]bool) []string {
	var bad []string
	for _, p := range literals(src) {
		if p.html {
			p.text = brand.ReplaceAllString(p.text, ">")
			for _, m := range tag.FindAllString(p.text, -1) {
				for _, a := range wordAttrs.FindAllStringSubmatch(m, -1) {
					if letters.MatchString(a[2]) {
						bad = append(bad, lineWord(p.line, a[1]+"="+a[2]))
					}
				}
			}
			if text := strings.TrimSpace(tag.ReplaceAllString(p.text, " ")); letters.MatchString(text) {
				bad = append(bad, lineWord(p.line, text))
			}
			continue
		}
		if !allowed[p.text] && sentence.MatchString(p.text) {
			bad = append(bad, lineWord(p.line, p.text))
		}
	}
	return bad
}

func lineWord(line int, s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, hole, "${}")), " ") + " (line " + strconv.Itoa(line) + ")"
}

// TestCustomerPageHasNoLiteralWords: every word of the customer's page
// comes from the catalogs, so it can be read in the customer's language.
func TestCustomerPageHasNoLiteralWords(t *testing.T) {
	for _, name := range customerModules {
		src, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range literalWords(string(src)) {
			t.Errorf("%s has words of its own, not from the catalog: %s", name, w)
		}
	}
}

// TestLiteralWordsCaught: the checker finds a sentence wherever a page
// may hide one, and leaves keys, classes, comments and patterns alone.
func TestLiteralWordsCaught(t *testing.T) {
	sample := "// A comment may say anything at all.\n" +
		"const re = /(\\d+) tries? \"left\"/;\n" +
		"const a = html`<p class=\"c-lead muted\" data-testid=\"x\">${t(\"gate.pin_lead\", { agent })}</p>`;\n" +
		"const b = html`<p>Hello ${name}</p>`;\n" +
		"const c = html`<button aria-label=\"Close\">${icon}</button>`;\n" +
		"setError(\"Type your full name.\");\n" +
		"const d = x ? `${n} new` : \"Send\";\n" +
		"const e = html`<${Page} title=\"This link has expired\" testid=\"expired\"><p>${t(\"x.y\")}</p><//>`;\n" +
		"/* Block comments: skipped too. */ const f = { \"Content-Type\": \"application/json\" };\n"
	got := literalWords(sample)
	want := []string{"Hello ${} (line 4)", "aria-label=Close (line 5)", "Type your full name. (line 6)",
		"${} new (line 7)", "Send (line 7)", "title=This link has expired (line 8)"}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("the checker found\n %q\nwant\n %q", got, want)
	}
}

// TestCustomerKeysExist: each catalog key the customer's page names is
// in English (and so, by i18n's test, in every language).
func TestCustomerKeysExist(t *testing.T) {
	en := i18n.Catalog(i18n.Default)
	for _, name := range customerModules {
		src, _ := files.ReadFile(name)
		for _, p := range literals(string(src)) {
			if p.html || !keyLike.MatchString(p.text) || events.MatchString(p.text) {
				continue
			}
			if _, ok := en[p.text]; !ok {
				if _, ok := en[p.text+".one"]; !ok {
					t.Errorf("%s line %d names %q, which the catalog lacks", name, p.line, p.text)
				}
			}
		}
	}
}
