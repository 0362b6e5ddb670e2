package rooms

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// MarshalEvent must write encoding/json's bytes to the byte: digests
// and the session record are made of them.
func TestMarshalEventIsEncodingJSON(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2026, 12, 7, 9, 30, 1, 120000000, time.UTC)
	texts := []string{"", "hello", "héllo wörld ✓ 👋", `a "quoted" \ word`, "line\nbreak\ttab\r\b\f",
		"<b>&amp;</b>", "\x00", "\x7f", "bad \xff utf8", "sep \u2028 \u2029", "\u00e9\u0301", "שלום"}
	var events []Event
	for _, text := range texts {
		events = append(events,
			Event{Type: EventMessage, At: at, From: &Actor{Role: "customer", Name: text}, Text: text},
			Event{Seq: 42, Type: EventMessage, At: at.In(paris), From: &Actor{Role: "agent", ID: "a_" + text, Name: "Ann"},
				Text: text, Digest: "d" + text},
			Event{Seq: -1, Type: text, At: at.Add(time.Nanosecond), TaskID: text, Consent: text, Auth: text,
				Method: text, State: text, Channel: text, Assets: []string{text, "x"}, Erased: text == ""},
		)
	}
	events = append(events,
		Event{Type: EventSessionEnded, At: at, Access: &EndAccess{Mode: "full"}},
		Event{Type: EventTaskAssigned, At: at, Task: &Task{ID: "t1", Kind: "sign", Title: "Sign <it>", AssignedAt: at}},
		Event{Type: EventMessage, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("odd", 5*3600+30*60+15))},
		Event{Type: EventMessage, Assets: []string{}},
		Event{},
	)
	for i, e := range events {
		want, wantErr := json.Marshal(e)
		got, err := MarshalEvent(e)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("event %d:\n got %s (%v)\nwant %s (%v)", i, got, err, want, wantErr)
		}
	}
	if _, err := MarshalEvent(Event{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a year past 9999 encoded")
	}
}

func BenchmarkMarshalEvent(b *testing.B) {
	e := Event{Seq: 9, Type: EventMessage, At: time.Now(), From: &Actor{Role: "customer", Name: "\x00"},
		Text: "a chat message of a hundred bytes or so, as the load bench sends them to a room", Digest: "0123456789abcdef"}
	b.Run("fields", func(b *testing.B) {
		for b.Loop() {
			_, _ = MarshalEvent(e)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(e)
		}
	})
}
