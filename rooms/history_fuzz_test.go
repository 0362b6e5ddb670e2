package rooms

import (
	"testing"
)

// FuzzCursor: a history cursor is accepted only as the server wrote it
// (decoding then encoding gives it back), anything else is the one clear
// validation error on "cursor"; and every position the server can be
// at encodes to a cursor that decodes to it.
func FuzzCursor(f *testing.F) {
	f.Fuzz(func(t *testing.T, cursor string, score int64, id string) {
		q := HistoryQuery{Cursor: cursor}
		c, err := (&SessionService{}).checkHistoryQuery(&q)
		if err != nil {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Fields) != 1 || ve.Fields["cursor"] != "is not a cursor this server gave" {
				t.Fatalf("cursor %q: %v, want one validation error on cursor", cursor, err)
			}
			if c != (Cursor{}) {
				t.Fatalf("cursor %q refused, yet decoded to %+v", cursor, c)
			}
		} else if again := encodeCursor(c); again != cursor {
			t.Fatalf("cursor %q decoded to %+v, which encodes as %q", cursor, c, again)
		}

		at := Cursor{Score: score, ID: id}
		enc := encodeCursor(at)
		got, err := decodeCursor(enc)
		if id == "" {
			at = Cursor{} // the start of history
		}
		if err != nil || got != at {
			t.Fatalf("%+v encoded as %q decodes to %+v, %v", at, enc, got, err)
		}
	})
}
