package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/internal/errcode"
	"github.com/cohub/cohub/rooms"
)

// Subprotocol is the only WebSocket subprotocol Cohub speaks.
const Subprotocol = "cohub.v1"

// Inbox is the topic of an agent's history updates.
const Inbox = "inbox"

// inFrame is a client frame (DESIGN.md §6).
type inFrame struct {
	Op  string `json:"op"`
	Ref string `json:"ref"`
	// ID names a send for its sender: a resend with the same id (after a
	// lost reply or a reconnect) is logged once.
	ID    string          `json:"id"`
	Topic string          `json:"topic"`
	Since *int64          `json:"since"`
	Epoch string          `json:"epoch"`
	Data  json.RawMessage `json:"data"`
	// read is when the reader took the frame off the socket (not on the wire).
	read time.Time
}

// errBadFrame answers what is not a client frame.
var errBadFrame = frameError{Code: CodeBadFrame, Message: "a frame is one JSON object in a text message"}

// decodeFrame reads a client frame. encoding/json takes null for an
// empty struct; a frame is an object.
func decodeFrame(typ websocket.MessageType, msg []byte) (inFrame, error) {
	if typ == websocket.MessageText {
		if f, ok := plainFrame(msg); ok {
			return f, nil
		}
	}
	var f inFrame
	if typ != websocket.MessageText || !bytes.HasPrefix(bytes.TrimLeft(msg, " \t\r\n"), []byte("{")) ||
		json.Unmarshal(msg, &f) != nil {
		return inFrame{}, errBadFrame
	}
	if bad := frameKeyProblems(msg); bad != nil {
		return inFrame{}, frameError{Code: "validation_failed", Message: "a frame names each of its fields once, exactly", Fields: bad}
	}
	return f, nil
}

// frameFields are inFrame's JSON names.
var frameFields = [...]string{"op", "ref", "id", "topic", "since", "epoch", "data"}

var frameFieldBytes = func() (b [len(frameFields)][]byte) {
	for i, name := range frameFields {
		b[i] = []byte(name)
	}
	return b
}()

// frameKeyProblems names the top-level keys encoding/json takes without
// a word and a REST body would refuse: a field given twice (the last one
// wins) and a key that is a field's name only when case is folded
// ("TOPIC" fills topic). Other keys are ignored, as before. msg is a
// JSON object encoding/json has decoded: one pass over its bytes, with
// no allocation unless something is wrong (api's checkKeys walks
// encoding/json tokens, an allocation a key: fine for a REST body, not
// for every chat frame).
func frameKeyProblems(msg []byte) map[string]string {
	k := keyCheck{}
	depth, inString, escaped, expectKey, start := 0, false, false, false, -1
	for i, c := range msg {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if start >= 0 {
					k.check(msg[start:i])
					start = -1
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if expectKey {
				start, expectKey = i+1, false
			}
		case '{', '[':
			depth++
			expectKey = depth == 1
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		}
	}
	return k.bad
}

// keyCheck judges a frame's own keys one by one.
type keyCheck struct {
	seen [len(frameFields)]bool
	bad  map[string]string
}

func (k *keyCheck) check(raw []byte) {
	if bytes.IndexByte(raw, '\\') >= 0 { // written with escapes: judge what it means
		var key string
		_ = json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &key)
		raw = []byte(key)
	}
	for i, name := range frameFieldBytes {
		switch {
		case bytes.Equal(raw, name) && k.seen[i]:
			k.note(string(raw), "appears twice")
		case bytes.Equal(raw, name):
			k.seen[i] = true
		case bytes.EqualFold(raw, name):
			k.note(string(raw), fmt.Sprintf("unknown field (did you mean %q?)", frameFields[i]))
		}
	}
}

func (k *keyCheck) note(key, problem string) {
	if k.bad == nil {
		k.bad = map[string]string{}
	}
	if _, ok := k.bad[key]; !ok {
		k.bad[key] = problem
	}
}

// outFrame is a server frame.
type outFrame struct {
	Op     string `json:"op"`
	Ref    string `json:"ref,omitempty"`
	Status string `json:"status,omitempty"`
	Topic  string `json:"topic,omitempty"`
	Seq    int64  `json:"seq,omitempty"`
	Data   any    `json:"data,omitempty"`
}

// Frame error codes beyond the REST ones.
const (
	CodeNotJoined   = "not_joined"
	CodeReadOnly    = "read_only"
	CodeRateLimited = "rate_limited"
	CodeBadFrame    = "bad_frame"
	CodeUnknownOp   = "unknown_op"
	CodeTooMany     = "too_many_topics"
	CodeOverloaded  = "overloaded"
)

// frameError is an error reply's data.
type frameError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// RetryAfterMS says when a refused frame may be sent again.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// replyError turns a domain error into a reply's code and message, from
// the one table of codes; the message never carries backend detail.
func replyError(err error) frameError {
	var fe frameError
	if errors.As(err, &fe) {
		return fe
	}
	var rl *rooms.RateLimitError
	if errors.As(err, &rl) {
		return frameError{Code: CodeRateLimited, Message: "you are sending messages too fast; slow down",
			RetryAfterMS: max(rl.RetryAfter.Milliseconds(), 1)}
	}
	e := errcode.Of(err)
	out := frameError{Code: e.Code, Message: e.Text(err)}
	var ve *rooms.ValidationError
	if errors.As(err, &ve) {
		out.Fields = ve.Fields
	}
	return out
}

func (e frameError) Error() string { return e.Code + ": " + e.Message }

// topicRoom returns the session id of a "room:s_…" topic: a room's
// topic is the bus's (bus.RoomTopic), on the wire and between nodes.
func topicRoom(topic string) (string, bool) { return bus.TopicRoom(topic) }

func roomTopic(id string) string { return bus.RoomTopic(id) }

// encode marshals a frame; frames are our own types, so it cannot fail
// short of a bug, which is logged by the caller as an empty frame.
func encode(f outFrame) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	return b
}
