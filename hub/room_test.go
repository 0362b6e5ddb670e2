package hub

import "testing"

// A logged event is routed by its head alone; anything that is not one
// falls back to a full decode.
func TestEventHead(t *testing.T) {
	for in, want := range map[string]busHead{
		`{"seq":42,"type":"message","at":"x","text":"{\"seq\":1}"}`: {Seq: 42, Type: "message"},
		`{"seq":7,"type":"task.completed"}`:                         {Seq: 7, Type: "task.completed"},
	} {
		if got, ok := eventHead([]byte(in)); !ok || got != want {
			t.Errorf("eventHead(%s) = %+v, %v", in, got, ok)
		}
	}
	for _, in := range []string{`{"op":"presence"}`, `{"seq":0,"type":"x"}`, `{"seq":x,"type":"m"}`, `{"seq":3}`, `{"seq":3,"type":"m`} {
		if _, ok := eventHead([]byte(in)); ok {
			t.Errorf("eventHead(%s) took it for an event", in)
		}
	}
}
