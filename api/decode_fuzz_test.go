package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cohub/cohub/rooms"
)

// fuzzBody is a request body type a route decodes, decoded as that
// route does.
type fuzzBody struct {
	name string
	new  func() any
	// put: the body is a whole object (requireAll), with these read-only fields.
	put      bool
	readOnly []string
	// optional: an action POST, which also takes an empty body.
	optional bool
}

// fuzzBodies lists every body the routes decode; a route that decodes a
// new type adds it here.
var fuzzBodies = []fuzzBody{
	{name: "login", new: func() any { return &loginRequest{} }},
	{name: "settings", new: func() any { return &rooms.Settings{} }, put: true},
	{name: "new team", new: func() any {
		d := rooms.DefaultTeamSettings()
		return &teamRequest{Settings: &d}
	}},
	{name: "team", new: func() any { return &rooms.Team{} }, put: true, readOnly: []string{"id"}},
	{name: "new agent", new: func() any { return &rooms.AgentInput{} }},
	{name: "agent", new: func() any { return &rooms.AgentInput{} }, put: true, readOnly: []string{"id"}},
	{name: "session", new: func() any { return &rooms.CreateRequest{} }},
	{name: "reengage", new: func() any { return &reengageRequest{} }},
	{name: "task", new: func() any { return &rooms.TaskRequest{} }},
	{name: "verify", new: func() any { return &verifyRequest{} }},
	{name: "consent", new: func() any { return &consentRequest{} }},
	{name: "action", new: func() any { return &struct{}{} }, optional: true},
}

// decodeAs decodes b into a new value of bt as its route does.
func decodeAs(bt fuzzBody, b []byte) (any, error) {
	v := bt.new()
	if bt.optional && len(bytes.TrimSpace(b)) == 0 {
		return v, nil
	}
	err := decodeBytes(b, v)
	if err == nil && bt.put {
		err = requireAll(b, v, bt.readOnly...)
	}
	return v, err
}

// FuzzDecodeBody: every request body decodes strictly, the body type
// picked by the first argument. Broken JSON is malformed_json and
// nothing else is; any other refusal names its fields. What decodes
// encodes to a body that decodes to the same value (for a PUT, what a
// GET returns is a whole object a PUT takes). And what decodes is
// refused once its first key is given twice, or in upper case.
func FuzzDecodeBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, kind byte, body []byte) {
		bt := fuzzBodies[int(kind)%len(fuzzBodies)]
		v, err := decodeAs(bt, body)
		if err != nil {
			checkRefusal(t, bt, body, err)
			return
		}
		b1, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s %q: decoded %+v does not encode: %v", bt.name, body, v, err)
		}
		v2, err := decodeAs(bt, b1)
		if err != nil {
			t.Fatalf("%s %q: decoded and encoded as %q, which is refused: %v", bt.name, body, b1, err)
		}
		if b2, _ := json.Marshal(v2); !bytes.Equal(b1, b2) {
			t.Fatalf("%s %q: encodes as %q, then as %q", bt.name, body, b1, b2)
		}

		start, keyEnd, end, key, ok := firstMember(body)
		if !ok {
			return
		}
		twice := concat(body[:end], []byte(","), body[start:])
		if _, err := decodeAs(bt, twice); !namesField(err, key, "appears twice") {
			t.Fatalf("%s %q: first key given twice, %q, decodes: %v", bt.name, body, twice, err)
		}
		if upper := strings.ToUpper(key); upper != key {
			k, _ := json.Marshal(upper)
			shouted := concat(body[:start], k, body[keyEnd:])
			if _, err := decodeAs(bt, shouted); !namesField(err, upper, "did you mean") {
				t.Fatalf("%s %q: first key in upper case, %q, decodes: %v", bt.name, body, shouted, err)
			}
		}
	})
}

// checkRefusal: broken JSON, and only that, is malformed_json; any other
// refusal is a validation error naming each bad field with a message.
func checkRefusal(t *testing.T, bt fuzzBody, body []byte, err error) {
	t.Helper()
	if !json.Valid(body) {
		if err != errMalformed {
			t.Fatalf("%s %q is not JSON, refused with %v", bt.name, body, err)
		}
		return
	}
	var ve *rooms.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		t.Fatalf("%s %q refused with %v, not a validation error naming fields", bt.name, body, err)
	}
	for field, msg := range ve.Fields {
		if field == "" || msg == "" {
			t.Fatalf("%s %q refused with an empty field or message: %q", bt.name, body, ve.Fields)
		}
	}
}

// namesField reports whether err is a validation error on field whose
// message says want.
func namesField(err error, field, want string) bool {
	var ve *rooms.ValidationError
	return errors.As(err, &ve) && strings.Contains(ve.Fields[field], want)
}

// firstMember finds a JSON object's first member: it spans
// body[start:end], and its key (decoded) ends at keyEnd.
func firstMember(body []byte) (start, keyEnd, end int, key string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') || !dec.More() {
		return 0, 0, 0, "", false
	}
	start = int(dec.InputOffset())
	tok, err := dec.Token()
	if err != nil {
		return 0, 0, 0, "", false
	}
	key, _ = tok.(string)
	keyEnd = int(dec.InputOffset())
	var value json.RawMessage
	if err := dec.Decode(&value); err != nil {
		return 0, 0, 0, "", false
	}
	return start, keyEnd, int(dec.InputOffset()), key, true
}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
