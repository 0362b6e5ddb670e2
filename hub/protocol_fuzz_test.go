package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/rooms"
)

// FuzzClientFrame: a client message is one JSON object in a text message
// or a bad_frame (or validation_failed naming its keys) whose reply still
// carries the message's ref; a frame
// that decodes encodes and decodes again to the same frame, and the
// reply to it is a frame the client reads back.
func FuzzClientFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, msg []byte, binary bool) {
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		} else if !utf8.Valid(msg) {
			return // the read loop closes the connection with 1007 first
		}
		fr, err := decodeFrame(typ, msg)
		if err != nil {
			var fe frameError
			if !errors.As(err, &fe) || (fe.Code != CodeBadFrame && (fe.Code != "validation_failed" || len(fe.Fields) == 0)) {
				t.Fatalf("decodeFrame(%q) = %v, want bad_frame, or validation_failed naming keys", msg, err)
			}
			checkReply(t, refOf(msg), err)
			return
		}
		if binary || !bytes.HasPrefix(bytes.TrimLeft(msg, " \t\r\n"), []byte("{")) {
			t.Fatalf("decodeFrame(%q, binary %v) = %+v: not one JSON object in a text message", msg, binary, fr)
		}
		if ref := refOf(msg); ref != fr.Ref {
			t.Fatalf("frame %q: ref %q, but its reply would carry %q", msg, fr.Ref, ref)
		}
		// The byte scan let it through: encoding/json's own tokens agree
		// that each field is named once, exactly.
		seen := map[string]bool{}
		for _, key := range ownKeys(t, msg) {
			for _, name := range frameFields {
				if strings.EqualFold(key, name) && (key != name || seen[name]) {
					t.Fatalf("frame %q names %q as %q, or twice, and was taken", msg, name, key)
				}
			}
			seen[key] = true
		}

		b1, err := json.Marshal(fr)
		if err != nil {
			t.Fatal(err)
		}
		fr2, err := decodeFrame(websocket.MessageText, b1)
		if err != nil {
			t.Fatalf("%q decoded to %+v, encoded as %q, which does not decode: %v", msg, fr, b1, err)
		}
		if b2, _ := json.Marshal(fr2); !bytes.Equal(b1, b2) {
			t.Fatalf("frame %q: encodes as %q, then as %q", msg, b1, b2)
		}
		same := fr.Op == fr2.Op && fr.Ref == fr2.Ref && fr.ID == fr2.ID && fr.Topic == fr2.Topic &&
			fr.Epoch == fr2.Epoch && reflect.DeepEqual(fr.Since, fr2.Since) &&
			(fr.Data == nil || jsonEqual(fr.Data, fr2.Data))
		if !same {
			t.Fatalf("frame %q: decoded %+v, then %+v", msg, fr, fr2)
		}
		checkReply(t, fr.Ref, frameError{Code: CodeUnknownOp, Message: "unknown op " + fr.Op})
		if fr.Since != nil && *fr.Since < 0 {
			return // join refuses it as a bad_frame
		}
		// The ops read their data: it decodes or is refused, never panics.
		var sd sendData
		var cd completeData
		var rd readData
		_ = json.Unmarshal(fr.Data, &sd)
		_ = json.Unmarshal(fr.Data, &cd)
		_ = json.Unmarshal(fr.Data, &rd)
	})
}

// checkReply: the error reply to a frame is one line of JSON that reads
// back with the frame's ref, code and message.
func checkReply(t *testing.T, ref string, err error) {
	t.Helper()
	want := replyError(err)
	b := encode(outFrame{Op: "reply", Ref: ref, Status: "error", Data: want})
	var got struct {
		Op, Ref, Status string
		Data            frameError
	}
	if bytes.ContainsRune(b, '\n') || json.Unmarshal(b, &got) != nil {
		t.Fatalf("reply %q is not one line of JSON", b)
	}
	if got.Op != "reply" || got.Ref != ref || got.Status != "error" || got.Data.Code != want.Code || got.Data.Message != want.Message {
		t.Fatalf("reply %q reads back as %+v, want ref %q and %+v", b, got, ref, want)
	}
}

// FuzzServerFrame: an event frame, built by hand for speed, is one line
// of JSON that reads back as the topic, seq and event it was built from.
func FuzzServerFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, topic string, seq int64, payload []byte) {
		var event bytes.Buffer
		if !utf8.ValidString(topic) || !utf8.Valid(payload) || json.Compact(&event, payload) != nil {
			return // events are Go-encoded JSON: compact, valid UTF-8
		}
		frame := eventFrame(topic, seq, event.Bytes())
		var got struct {
			Op, Topic string
			Seq       int64
			Data      json.RawMessage
		}
		if bytes.ContainsRune(frame, '\n') {
			t.Fatalf("event frame %q has a line break: a batch would split it", frame)
		}
		if err := json.Unmarshal(frame, &got); err != nil {
			t.Fatalf("event frame %q is not JSON: %v", frame, err)
		}
		if got.Op != "event" || got.Topic != topic || got.Seq != seq || !jsonEqual(got.Data, event.Bytes()) {
			t.Fatalf("event frame %q reads back as %+v", frame, got)
		}
	})
}

// FuzzBusHead: a room routes a bus message by its head, read without
// decoding the rest for a logged event. For every event the log writes
// it reads the seq and type a full decode reads; for anything else it
// never invents a seq, and agrees with a full decode wherever the
// message names its seq and type once.
func FuzzBusHead(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte, seq int64, typ, text string) {
		if seq > 0 && utf8.ValidString(typ) && utf8.ValidString(text) {
			// What the commit script logs: the event's JSON, seq first.
			b, err := json.Marshal(rooms.Event{Type: typ, Text: text, At: time.Unix(1, 0).UTC()})
			if err != nil {
				t.Fatal(err)
			}
			logged := append([]byte(`{"seq":`+strconv.FormatInt(seq, 10)+`,`), b[1:]...)
			if h, ok := readHead(logged); !ok || h.Seq != seq || h.Type != typ {
				t.Fatalf("logged event %q routes as %+v (%v), want seq %d type %q", logged, h, ok, seq, typ)
			}
		}

		if seq > 0 {
			// A read receipt names its horizon, never a seq: it must not
			// route as a logged event.
			b, _ := json.Marshal(readReceiptMsg{Op: "read", By: "customer", Horizon: seq})
			if h, ok := readHead(b); !ok || h.Seq != 0 || h.Op != "read" || h.Horizon != seq {
				t.Fatalf("read receipt %q routes as %+v (%v)", b, h, ok)
			}
		}

		h, ok := eventHead(payload)
		if !ok {
			return
		}
		if h.Seq <= 0 {
			t.Fatalf("eventHead(%q) = %+v: no seq", payload, h)
		}
		var full busHead
		if !utf8.Valid(payload) || !json.Valid(payload) || !namesOnce(payload, "seq", "type") ||
			json.Unmarshal(payload, &full) != nil {
			return
		}
		if full.Seq != h.Seq || full.Type != h.Type {
			t.Fatalf("bus message %q: the head reads %+v, a full decode %+v", payload, h, full)
		}
	})
}

// ownKeys are a JSON object's own keys, read with encoding/json's tokens.
func ownKeys(t *testing.T, b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%q: not an object", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
	}
	return keys
}

// namesOnce reports whether a JSON object has exactly one key matching
// each name the way encoding/json matches them (ignoring case).
func namesOnce(b []byte, names ...string) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		key, _ := tok.(string)
		for _, n := range names {
			if strings.EqualFold(key, n) {
				seen[n]++
			}
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	for _, n := range names {
		if seen[n] != 1 {
			return false
		}
	}
	return true
}

// jsonEqual compares two JSON values as values (escapes and spacing
// aside), numbers by their text.
func jsonEqual(a, b []byte) bool {
	va, errA := decodeValue(a)
	vb, errB := decodeValue(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

func decodeValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// fullFrame is decodeFrame without its plain path.
func fullFrame(msg []byte) (inFrame, bool) {
	var f inFrame
	if !bytes.HasPrefix(bytes.TrimLeft(msg, " \t\r\n"), []byte("{")) || json.Unmarshal(msg, &f) != nil || frameKeyProblems(msg) != nil {
		return inFrame{}, false
	}
	return f, true
}

// FuzzPlainFrame: what the plain path reads, the full path reads the
// same, to the byte of its data; a send's text likewise.
func FuzzPlainFrame(f *testing.F) {
	for _, s := range []string{
		`{"op":"send","ref":"7","topic":"room:01J","id":"m-1","data":{"text":"hello"}}`,
		` { "op" : "join" , "topic":"room:x", "since": 12, "epoch":"e1" } `,
		`{"op":"join","since":-0}`, `{"op":"join","since":007}`, `{"op":"join","since":1e3}`,
		`{"op":"join","since":null}`, `{"op":"send","data":null}`, `{"op":"send","data":[1,{"a":"}"}]}`,
		`{"op":"send","data":{"text":"a\"b"}}`, `{"op":"send","data":{"text":"\u00e9\ud83d\ude00\ud800 \\ \/"}}`, `{"OP":"send"}`, `{"op":"a","op":"b"}`, `{}`, `{"op":"x"} x`,
		`{"op":"send","data":{"text":"x"}`, `{"op":"send","data":{"text":"x","more":1}}`, `{"op":"send","data":{"text":5}}`,
		`{"since":99999999999999999999}`, `{"op":"\u0041"}`, `{"unknown":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if !utf8.Valid(msg) {
			return // the read loop closes the connection with 1007 first
		}
		got, ok := plainFrame(msg)
		if !ok {
			return
		}
		want, wantOK := fullFrame(msg)
		if !wantOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("plainFrame(%q) = %+v; the full path: %+v, %v", msg, got, want, wantOK)
		}
		if text, ok := plainSendText(got.Data); ok {
			var d sendData
			if err := json.Unmarshal(got.Data, &d); err != nil || d.Text != text {
				t.Fatalf("plainSendText(%q) = %q; encoding/json: %q, %v", got.Data, text, d.Text, err)
			}
		}
	})
}

// The plain path takes the frames clients send, and leaves to the full
// path what it must word or unescape.
func TestPlainFrameTakesTheCommonFrames(t *testing.T) {
	for msg, want := range map[string]bool{
		`{"op":"send","ref":"7","topic":"room:01J","id":"m-1","data":{"text":"hello"}}`: true,
		`{"op":"join","ref":"2","topic":"room:01J","since":41,"epoch":"01J"}`:           true,
		`{"op":"read","topic":"room:01J","data":{"seq":9}}`:                             true,
		`{"op":"send","ref":"say \"hi\""}`:                                              false,
		`{"Op":"send"}`:                                                                 false,
		`{"op":"a","op":"b"}`:                                                           false,
		`[]`:                                                                            false,
	} {
		if _, ok := plainFrame([]byte(msg)); ok != want {
			t.Errorf("plainFrame(%s): plain %v, want %v", msg, ok, want)
		}
	}
	if text, ok := plainSendText([]byte(`{"text":"héllo"}`)); !ok || text != "héllo" {
		t.Errorf("plainSendText: %q, %v", text, ok)
	}
	if text, ok := plainSendText([]byte(`{"text":"say \"hi\" \u00e9"}`)); !ok || text != `say "hi" é` {
		t.Errorf("plainSendText of a text to unescape: %q, %v", text, ok)
	}
}

// FuzzUnescape: a string's content reads as encoding/json reads it, and
// is refused where encoding/json refuses it.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`plain`, `say \"hi\"`, `\u00e9\ud83d\ude00`, `\ud800`, `\ud800\u0041`, `\udc00\ud800x`,
		`\ud83d\u`, `\/\b\f\n\r\t\\`, `\'`, `\x41`, "tab\there", `end\`, "bad \xff", `\uFFFD\uD834\uDD1E`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		var want string
		wantErr := json.Unmarshal(append(append([]byte{'"'}, s...), '"'), &want)
		got, ok := unescape(s)
		if ok != (wantErr == nil) || ok && got != want {
			t.Fatalf("unescape(%q) = %q, %v; encoding/json: %q, %v", s, got, ok, want, wantErr)
		}
	})
}
