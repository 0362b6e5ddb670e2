package hub

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/coder/websocket"
)

// Frames are as strict as REST bodies about their own fields: a field
// given twice, or named in another case, is refused by name; keys of
// the data inside, and keys the protocol does not know, are not judged.
func TestStrictFrameKeys(t *testing.T) {
	for _, tc := range []struct {
		frame string
		bad   map[string]string
	}{
		{`{"op":"send","topic":"room:s_1","data":{"text":"hi"}}`, nil},
		{`{"op":"send","data":{"OP":"x","op":"y","op":"z"},"extra":1}`, nil},
		{`{"op":"ping","ref":"say \"op\": twice","note":["op","op"]}`, nil},
		{`{"op":"join","TOPIC":"room:s_1"}`, map[string]string{"TOPIC": `unknown field (did you mean "topic"?)`}},
		{`{"op":"send","op":"leave"}`, map[string]string{"op": "appears twice"}},
		{`{"\u006fp":"ping","op":"leave"}`, map[string]string{"op": "appears twice"}},
		{`{"op":"join","ſince":0}`, map[string]string{"ſince": `unknown field (did you mean "since"?)`}},
		{`{"Op":"ping","Ref":"1","since":0}`, map[string]string{"Op": `unknown field (did you mean "op"?)`,
			"Ref": `unknown field (did you mean "ref"?)`}},
	} {
		_, err := decodeFrame(websocket.MessageText, []byte(tc.frame))
		var fe frameError
		switch {
		case tc.bad == nil && err != nil:
			t.Errorf("%s: refused: %v", tc.frame, err)
		case tc.bad != nil && (!errors.As(err, &fe) || fe.Code != "validation_failed" || !reflect.DeepEqual(fe.Fields, tc.bad)):
			t.Errorf("%s: %+v, want validation_failed with %v", tc.frame, err, tc.bad)
		}
	}
}

// BenchmarkFrameKeys: the strict key check alone, on a chat send
// (BenchmarkFrameDecode is the whole read).
func BenchmarkFrameKeys(b *testing.B) {
	msg := []byte(`{"op":"send","ref":"42","id":"0b9e3a52-3c1f-4d1e-9b8e-6f1c2a7d9e10","topic":"room:s_01M8SMQS5WQC0NR6SV3RY8BF55","data":{"text":"Hello, I have a question about my loan agreement."}}`)
	b.ReportAllocs()
	for b.Loop() {
		if frameKeyProblems(msg) != nil {
			b.Fatal("refused")
		}
	}
}

// The frames written by hand are the bytes encoding/json writes.
func TestHandWrittenFrames(t *testing.T) {
	for _, ref := range []string{"", "r1", `a "ref" <with> & \ odd`, "é\u2028"} {
		for _, seq := range []int64{1, 9876543210} {
			if got, want := string(seqReply(ref, seq)), string(okFrame(ref, map[string]any{"seq": seq})); got != want {
				t.Errorf("seqReply(%q, %d) = %s, want %s", ref, seq, got, want)
			}
		}
	}
	for _, topic := range []string{"room:01J", "inbox", "bad\x7f\"topic"} {
		data := []byte(`{"type":"message"}`)
		want := encode(outFrame{Op: "event", Topic: topic, Seq: 7, Data: json.RawMessage(data)})
		if got := eventFrame(topic, 7, data); string(got) != string(want) {
			t.Errorf("eventFrame(%q) = %s, want %s", topic, got, want)
		}
	}
}
