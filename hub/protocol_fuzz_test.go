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
