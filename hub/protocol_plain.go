package hub

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// plainFrame reads a frame the way nearly every client writes one: an
// object of the protocol's own keys, each once and in lower case, with
// strings that need no unescaping. It gives what encoding/json and
// frameKeyProblems would (a fuzz test holds it to that), without
// reflection, which was a twentieth of a node's time under load; ok is
// false for anything else, which then takes the full path.
func plainFrame(msg []byte) (f inFrame, ok bool) {
	s := scan{b: msg}
	if !s.byte('{') {
		return inFrame{}, false
	}
	var seen [len(frameFields)]bool
	if s.byte('}') {
		return f, s.end()
	}
	for {
		key, ok := s.str()
		if !ok || !s.byte(':') {
			return inFrame{}, false
		}
		i := slices.Index(frameFields[:], string(key))
		if i < 0 || seen[i] {
			return inFrame{}, false // unknown, folded or twice: the full path words it
		}
		seen[i] = true
		if !s.field(&f, frameFields[i]) {
			return inFrame{}, false
		}
		if s.byte('}') {
			return f, s.end()
		}
		if !s.byte(',') {
			return inFrame{}, false
		}
	}
}

// plainSendText reads a send's data when it is {"text":"…"}.
func plainSendText(data []byte) (string, bool) {
	s := scan{b: data}
	if !s.byte('{') {
		return "", false
	}
	if key, ok := s.str(); !ok || string(key) != "text" || !s.byte(':') {
		return "", false
	}
	text, ok := s.text()
	if !ok || !s.byte('}') || !s.end() {
		return "", false
	}
	return text, true
}

// scan walks JSON bytes; each step skips the white space before it.
type scan struct {
	b []byte
	i int
}

func (s *scan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// byte takes c if it comes next.
func (s *scan) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end: nothing but white space is left.
func (s *scan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// str takes a string with no escape and no control character (the
// message is valid UTF-8: the reader checked), and gives its bytes.
func (s *scan) str() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	for j := s.i; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v := s.b[s.i:j]
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// text takes any string, unescaping it as encoding/json does.
func (s *scan) text() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	for j := s.i; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			v, ok := unescape(s.b[s.i:j])
			s.i = j + 1
			return v, ok
		}
	}
	return "", false
}

// unescape is a JSON string's content read as encoding/json reads it
// (a lone surrogate or invalid UTF-8 as U+FFFD); false when it is not
// JSON.
func unescape(s []byte) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x20 || c == '"':
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, r) // RuneError for invalid UTF-8, as encoding/json
			i += size
			continue
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 == len(s) {
			return "", false
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s[i:])
			if r < 0 {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s) >= i+2 && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2:])
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					i += 6 // a pair: the second half is taken too
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return string(b), true
}

// hex4 reads the four hex digits of a \u escape, or gives -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// field reads the value of one of the frame's keys into f.
func (s *scan) field(f *inFrame, name string) bool {
	switch name {
	case "since":
		return s.int(&f.Since)
	case "data":
		return s.raw(&f.Data)
	}
	v, ok := s.str()
	if !ok {
		return false
	}
	switch name {
	case "op":
		f.Op = string(v)
	case "ref":
		f.Ref = string(v)
	case "id":
		f.ID = string(v)
	case "topic":
		f.Topic = string(v)
	case "epoch":
		f.Epoch = string(v)
	}
	return true
}

// int takes an integer as JSON writes one: no plus, no leading zero, no
// fraction or exponent (those take the full path).
func (s *scan) int(p **int64) bool {
	s.space()
	j := s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(s.b) && '0' <= s.b[j] && s.b[j] <= '9' {
		j++
	}
	if j == digits || s.b[digits] == '0' && j-digits > 1 || j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		return false
	}
	n, err := strconv.ParseInt(string(s.b[s.i:j]), 10, 64)
	if err != nil {
		return false
	}
	s.i, *p = j, &n
	return true
}

// raw takes an object or an array whole, as json.RawMessage does.
func (s *scan) raw(p *json.RawMessage) bool {
	s.space()
	if s.i == len(s.b) || s.b[s.i] != '{' && s.b[s.i] != '[' {
		return false
	}
	end := valueEnd(s.b, s.i)
	if end < 0 || !json.Valid(s.b[s.i:end]) {
		return false
	}
	*p = s.b[s.i:end:end]
	s.i = end
	return true
}

// valueEnd is the index just past the object or array starting at i,
// or -1: brackets are counted outside strings; json.Valid then judges it.
func valueEnd(b []byte, i int) int {
	depth, inString, escaped := 0, false, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
