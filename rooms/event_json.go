package rooms

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// MarshalEvent encodes e exactly as encoding/json does: a logged event's
// bytes are what its digest and the session's record are made of. Every
// chat message is encoded twice on its way (its digest, then its body in
// the log), and reflection was a tenth of a node's time at 10,000
// messages a second; so the fields are written here, and an event with
// a task or an access (never a message) goes to encoding/json.
func MarshalEvent(e Event) ([]byte, error) {
	if e.Task != nil || e.Access != nil {
		return json.Marshal(e)
	}
	b := make([]byte, 0, 160+len(e.Text))
	b = append(b, '{')
	if e.Seq != 0 {
		b = append(b, `"seq":`...)
		b = strconv.AppendInt(b, e.Seq, 10)
		b = append(b, ',')
	}
	b = append(b, `"type":`...)
	b = AppendJSONString(b, e.Type)
	b = append(b, `,"at":"`...)
	b, err := e.At.AppendText(b)
	if err != nil {
		return json.Marshal(e) // encoding/json's own error, worded its way
	}
	b = append(b, '"')
	if f := e.From; f != nil {
		b = append(b, `,"from":{"role":`...)
		b = AppendJSONString(b, f.Role)
		b = appendJSONField(b, `,"id":`, f.ID)
		b = appendJSONField(b, `,"name":`, f.Name)
		b = append(b, '}')
	}
	b = appendJSONField(b, `,"text":`, e.Text)
	b = appendJSONField(b, `,"task_id":`, e.TaskID)
	b = appendJSONField(b, `,"consent":`, e.Consent)
	b = appendJSONField(b, `,"authentication":`, e.Auth)
	b = appendJSONField(b, `,"method":`, e.Method)
	b = appendJSONField(b, `,"state":`, e.State)
	b = appendJSONField(b, `,"channel":`, e.Channel)
	if len(e.Assets) > 0 {
		b = append(b, `,"assets":[`...)
		for i, a := range e.Assets {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, a)
		}
		b = append(b, ']')
	}
	b = appendJSONField(b, `,"digest":`, e.Digest)
	if e.Erased {
		b = append(b, `,"erased":true`...)
	}
	return append(b, '}'), nil
}

// appendJSONField appends an omitempty string field: key is `,"name":`.
func appendJSONField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return AppendJSONString(append(b, key...), s)
}

// AppendJSONString appends s quoted as encoding/json quotes it (HTML
// characters, U+2028 and U+2029 escaped; invalid UTF-8 as U+FFFD).
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
