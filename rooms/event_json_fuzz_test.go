package rooms

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzMarshalEvent: the hand-written event is encoding/json's, byte for
// byte, or the same error.
func FuzzMarshalEvent(f *testing.F) {
	f.Add("message", "customer", "", "Ann", "hi <there>", "", int64(3), int64(1765099801), 7, false)
	f.Fuzz(func(t *testing.T, typ, role, id, name, text, digest string, seq, sec int64, nsec int, erased bool) {
		e := Event{Seq: seq, Type: typ, At: time.Unix(sec, int64(nsec)).UTC(), Text: text, Digest: digest, Erased: erased}
		if role != "" {
			e.From = &Actor{Role: role, ID: id, Name: name}
		}
		want, wantErr := json.Marshal(e)
		got, err := MarshalEvent(e)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v), want %s (%v)", got, err, want, wantErr)
		}
	})
}

// FuzzAppendJSONString: a string is quoted as encoding/json quotes it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"plain", "\x00\x1f\x7f", `"\<>&`, "\b\f\n\r\t", "\xff\xfe", "\u2028\u2029", "é👋"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("AppendJSONString(%q) = %s, want x%s", s, got, want)
		}
	})
}
