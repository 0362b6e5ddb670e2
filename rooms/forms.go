package rooms

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Form limits.
const (
	maxFields      = 50
	maxOptions     = 50
	maxAnswerChars = 1000
	maxPattern     = 200
	maxHelpChars   = 500
	maxContentText = 10000
)

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// patternSyntax refuses what JavaScript and Go read differently or not
// at all: look-arounds, back-references, named groups and flags.
var patternSyntax = regexp.MustCompile(`\(\?|\\[0-9pPkbB]`)

// maxMatchPaths bounds the ways a pattern may match one answer (see
// backtracks).
const maxMatchPaths = 1000

// backtracks reports whether a pattern would make a backtracking engine
// slow: Go's regexp runs in linear time, but the customer's page runs
// the pattern as a JavaScript RegExp, and there (a+)+$ against "aaa…a!"
// takes time exponential in the answer's length. Refused: a repeat (*,
// +, {n,} or {n,m} with m above 1) of anything holding an unbounded
// repeat; an unbounded repeat of anything holding a choice (an
// alternation, ?, or {n,m} with n < m); a pattern with more than
// maxMatchPaths ways to match one answer, such as (a|a){9}(a|a){9}(a|a){9}
// (512³) or ten a? in a row. Fine: a repeat whose inside has fixed counts
// only, such as ([A-Z][0-9]{2})+, and a small bounded repeat of a group
// with choices, such as ( ?[0-9]{4}){2,4}.
//
// The pattern is read as written, not through regexp/syntax, whose
// parser merges alternatives ((a|a)+ becomes (a)+, (a|[a-z])+ becomes
// [a-z]+) that JavaScript still tries one by one. It is called on
// patterns that compile in Go and pass patternSyntax.
func backtracks(pattern string) bool {
	r := &patternReader{s: pattern}
	n := r.alternation()
	if r.i < len(r.s) {
		return true // an unmatched ")": not a pattern to run
	}
	paths, _, nested := n.paths()
	return nested || paths > maxMatchPaths
}

// patternNode is a pattern read as written: an atom (no subs, min = max
// = 1), a sequence, an alternation, or a repeat of subs[0] min to max
// times (max -1: unbounded).
type patternNode struct {
	op       byte // 'a' atom, 's' sequence, '|' alternation, 'r' repeat
	subs     []*patternNode
	min, max int
}

var patternRepeat = regexp.MustCompile(`^\{([0-9]+)(,([0-9]*))?\}`)

type patternReader struct {
	s string
	i int
}

func (r *patternReader) alternation() *patternNode {
	n := &patternNode{op: '|', subs: []*patternNode{r.sequence()}}
	for r.i < len(r.s) && r.s[r.i] == '|' {
		r.i++
		n.subs = append(n.subs, r.sequence())
	}
	return n
}

func (r *patternReader) sequence() *patternNode {
	n := &patternNode{op: 's'}
	for r.i < len(r.s) && r.s[r.i] != '|' && r.s[r.i] != ')' {
		item := r.atom()
		for r.i < len(r.s) {
			lo, hi, width := 0, -1, 1
			switch c := r.s[r.i]; {
			case c == '*':
			case c == '+':
				lo = 1
			case c == '?':
				hi = 1
			case c == '{' && patternRepeat.MatchString(r.s[r.i:]):
				m := patternRepeat.FindStringSubmatch(r.s[r.i:])
				lo, _ = strconv.Atoi(m[1])
				hi = lo
				if m[2] != "" {
					hi = -1
					if m[3] != "" {
						hi, _ = strconv.Atoi(m[3])
					}
				}
				width = len(m[0])
			default:
				width = 0
			}
			if width == 0 {
				break
			}
			r.i += width
			if r.i < len(r.s) && r.s[r.i] == '?' { // lazy: the same ways
				r.i++
			}
			item = &patternNode{op: 'r', subs: []*patternNode{item}, min: lo, max: hi}
		}
		n.subs = append(n.subs, item)
	}
	return n
}

// atom reads a group, a class, an escape or one character.
func (r *patternReader) atom() *patternNode {
	atom := &patternNode{op: 'a'}
	switch r.s[r.i] {
	case '(':
		r.i++
		n := r.alternation()
		if r.i < len(r.s) { // the ")"
			r.i++
		}
		return n
	case '[':
		r.i++
		if r.i < len(r.s) && r.s[r.i] == '^' {
			r.i++
		}
		// As Go reads a class: a "]" first is a character; an item is
		// a [:name:] class, a class such as \d, a character, or a range
		// of two characters.
		for first := true; r.i < len(r.s) && (first || r.s[r.i] != ']'); first = false {
			if rest := r.s[r.i:]; strings.HasPrefix(rest, "[:") && strings.Contains(rest[2:], ":]") {
				r.i += 2 + strings.Index(rest[2:], ":]") + 2
				continue
			}
			if len(r.s)-r.i >= 2 && r.s[r.i] == '\\' && strings.IndexByte("dDsSwW", r.s[r.i+1]) >= 0 {
				r.i += 2
				continue
			}
			r.char()
			if strings.HasPrefix(r.s[r.i:], "-") && !strings.HasPrefix(r.s[r.i:], "-]") && r.i+1 < len(r.s) {
				r.i++
				r.char()
			}
		}
		r.i++ // the "]"
	case '\\':
		if rest := r.s[r.i:]; strings.HasPrefix(rest, `\Q`) {
			if end := strings.Index(rest, `\E`); end >= 0 {
				r.i += end + 2
			} else {
				r.i = len(r.s)
			}
		} else {
			r.char()
		}
	default:
		r.char()
	}
	r.i = min(r.i, len(r.s))
	return atom
}

// char reads one character, or one escape such as \. or \x{263a}.
func (r *patternReader) char() {
	rest := r.s[r.i:]
	switch {
	case strings.HasPrefix(rest, `\x{`) && strings.Contains(rest, "}"):
		r.i += strings.Index(rest, "}") + 1
	case strings.HasPrefix(rest, `\`) && len(rest) >= 2:
		_, size := utf8.DecodeRuneInString(rest[1:])
		r.i += 1 + size
	default:
		_, size := utf8.DecodeRuneInString(rest)
		r.i += max(size, 1)
	}
	r.i = min(r.i, len(r.s))
}

// paths returns an estimate of the ways n can match one text (capped
// above maxMatchPaths; an unbounded repeat of a part without choices
// counts once), whether n holds an unbounded repeat, and whether it
// holds a nested repetition that backtracks refuses.
func (n *patternNode) paths() (paths int, unbounded, nested bool) {
	capped := func(n int) int { return min(n, maxMatchPaths+1) }
	switch n.op {
	case 's', '|':
		paths = 1
		if n.op == '|' {
			paths = 0
		}
		for _, sub := range n.subs {
			p, u, x := sub.paths()
			if n.op == '|' {
				paths = capped(paths + p)
			} else {
				paths = capped(paths * p)
			}
			unbounded, nested = unbounded || u, nested || x
		}
		return paths, unbounded, nested
	case 'r':
		p, u, x := n.subs[0].paths()
		if n.max == -1 {
			// Unbounded: refused over an unbounded repeat or a choice.
			return 1, true, x || u || p > 1
		}
		if n.max > 1 && u {
			return 1, true, true
		}
		// Bounded: p^min + … + p^max ways.
		total, pow := 0, 1
		for k := 0; k <= n.max; k++ {
			if k >= n.min {
				total = capped(total + pow)
			}
			pow = capped(pow * p)
		}
		return total, u, x
	}
	return 1, false, false
}

const dateLayout = "2006-01-02"

// validContent checks a task's content for its kind, at path.
func validContent(kind string, c TaskContent, path string, f problems) TaskContent {
	c.Instructions = strings.TrimSpace(c.Instructions)
	c.Text = strings.TrimSpace(c.Text)
	if utf8.RuneCountInString(c.Instructions) > maxContentText {
		f.add(path+".instructions", "must be at most 10000 characters")
	}
	if utf8.RuneCountInString(c.Text) > maxContentText {
		f.add(path+".text", "must be at most 10000 characters")
	}
	// A form without fields asks only for confirmation, and a consent
	// without text asks for agreement to its title.
	if kind != "form" && len(c.Fields) > 0 {
		f.add(path+".fields", "only a form has fields")
	}
	if len(c.Fields) > maxFields {
		f.add(path+".fields", "at most 50 fields")
		return c
	}
	seen := map[string]bool{}
	for i := range c.Fields {
		p := fmt.Sprintf("%s.fields[%d]", path, i)
		c.Fields[i] = validField(c.Fields[i], p, f)
		if seen[c.Fields[i].Name] {
			f.add(p+".name", "is used by another field")
		}
		seen[c.Fields[i].Name] = true
	}
	return c
}

func validField(d FormField, p string, f problems) FormField {
	d.Label = strings.TrimSpace(d.Label)
	d.Help = strings.TrimSpace(d.Help)
	if !fieldName.MatchString(d.Name) {
		f.add(p+".name", "must be 1 to 40 lower-case letters, digits or _, starting with a letter")
	}
	if d.Label == "" || utf8.RuneCountInString(d.Label) > maxTitleLen {
		f.add(p+".label", "is required, at most 200 characters")
	}
	checkName(d.Label, p+".label", f)
	if utf8.RuneCountInString(d.Help) > maxHelpChars {
		f.add(p+".help", "must be at most 500 characters")
	}
	if !slices.Contains(FieldTypes, d.Type) {
		f.add(p+".type", "must be one of "+strings.Join(FieldTypes, ", "))
	}
	if d.Pattern != "" {
		_, err := regexp.Compile(d.Pattern)
		switch {
		case d.Type != "text" && d.Type != "phone":
			f.add(p+".pattern", "only text and phone fields have a pattern")
		case err != nil || len(d.Pattern) > maxPattern || patternSyntax.MatchString(d.Pattern) || backtracks(d.Pattern):
			f.add(p+".pattern", "must be a simple regular expression (no look-arounds, back-references, named groups, flags, "+
				"nested repetition such as (a+)+ or (a|ab)*, or more than 1000 ways to match one answer), at most 200 characters")
		}
	}
	if d.Min != "" || d.Max != "" {
		if d.Type != "number" && d.Type != "date" {
			f.add(p+".min", "only number and date fields have min and max")
		} else {
			for name, v := range map[string]string{"min": d.Min, "max": d.Max} {
				if v != "" && !inBounds(d.Type, v) {
					f.add(p+"."+name, "must be a number, or a date as YYYY-MM-DD, as the field's type")
				}
			}
		}
	}
	if d.Type == "select" && (len(d.Options) == 0 || len(d.Options) > maxOptions) {
		f.add(p+".options", "a select needs 1 to 50 options")
	}
	if d.Type != "select" && len(d.Options) > 0 {
		f.add(p+".options", "only a select has options")
	}
	return d
}

func inBounds(typ, v string) bool {
	if typ == "number" {
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	}
	_, err := time.Parse(dateLayout, v)
	return err == nil
}

// ValidateAnswers checks a form's answers against its fields and returns
// them normalized (trimmed strings, checkboxes as booleans, every field
// present). Errors name "answers.{field}".
func ValidateAnswers(defs []FormField, answers map[string]any) (map[string]any, error) {
	f := problems{}
	out := map[string]any{}
	for k := range answers {
		if !slices.ContainsFunc(defs, func(d FormField) bool { return d.Name == k }) {
			f.add("answers."+k, "is not a field of this form")
		}
	}
	for _, d := range defs {
		if msg := checkAnswer(d, answers[d.Name], out); msg != "" {
			f.add("answers."+d.Name, msg)
		}
	}
	if err := f.asError(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkAnswer returns what is wrong with one answer ("" when nothing),
// storing the normalized answer in out. The customer's page
// (static/js/forms.js) applies the same rules in the same order.
func checkAnswer(d FormField, v any, out map[string]any) string {
	if d.Type == "checkbox" {
		b, ok := v.(bool)
		if v != nil && !ok {
			return "must be true or false"
		}
		if d.Required && !b {
			return "must be ticked"
		}
		out[d.Name] = b
		return ""
	}
	s, ok := v.(string)
	if v != nil && !ok {
		return "must be text"
	}
	s = strings.TrimSpace(s)
	out[d.Name] = s
	if s == "" {
		if d.Required {
			return "is required"
		}
		return ""
	}
	if utf8.RuneCountInString(s) > maxAnswerChars || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' }) >= 0 {
		return "must be at most 1000 characters, without control characters"
	}
	switch d.Type {
	case "email":
		if !validEmail(s) {
			return "must be an email address such as jane@example.com"
		}
	case "phone":
		if !phoneShape.MatchString(s) {
			return "must be a phone number such as +44 20 7946 0958"
		}
	case "number":
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "must be a number"
		}
		if lo, err := strconv.ParseFloat(d.Min, 64); err == nil && n < lo {
			return "must be at least " + d.Min
		}
		if hi, err := strconv.ParseFloat(d.Max, 64); err == nil && n > hi {
			return "must be at most " + d.Max
		}
	case "date":
		if _, err := time.Parse(dateLayout, s); err != nil {
			return "must be a date as YYYY-MM-DD"
		}
		if d.Min != "" && s < d.Min {
			return "must be on or after " + d.Min
		}
		if d.Max != "" && s > d.Max {
			return "must be on or before " + d.Max
		}
	case "select":
		if !slices.Contains(d.Options, s) {
			return "must be one of the choices"
		}
	}
	if d.Pattern != "" && !regexp.MustCompile(`^(?:`+d.Pattern+`)$`).MatchString(s) {
		return "is not in the expected format"
	}
	return ""
}

// phoneShape is what a phone answer looks like: digits with the usual
// separators, an optional leading +.
var phoneShape = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{5,30}$`)
