package hub

import (
	"encoding/json"
	"testing"
)

var sendFrame = []byte(`{"op":"send","ref":"42","topic":"room:s_01J9Z8Q6V0K3M5N7P9R1T3V5X7","id":"c-7f3a9b",` +
	`"data":{"text":"a hundred bytes of chat, give or take: the size the side-by-side bench sends in each message."}}`)

// BenchmarkFrameDecode is what a node does with each client frame before
// its op: the frame, then a send's data.
func BenchmarkFrameDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var f inFrame
		var d sendData
		if json.Unmarshal(sendFrame, &f) != nil || json.Unmarshal(f.Data, &d) != nil || d.Text == "" {
			b.Fatal("decode")
		}
	}
}

// BenchmarkFrameEncode is what a node writes for each message: the
// sender's reply and every subscriber's event frame (the event's JSON
// comes from the bus as it is).
func BenchmarkFrameEncode(b *testing.B) {
	payload := []byte(`{"seq":43,"type":"message","at":"2026-12-01T10:00:00.123456789Z","from":{"role":"customer","name":"Dana"},"text":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		reply := encode(outFrame{Op: "reply", Ref: "42", Status: "ok", Data: map[string]any{"seq": 43}})
		ev := eventFrame("room:s_01J9Z8Q6V0K3M5N7P9R1T3V5X7", 43, payload)
		if len(reply) == 0 || len(ev) == 0 {
			b.Fatal("encode")
		}
	}
}

// BenchmarkEventHead is how a room routes a bus message.
func BenchmarkEventHead(b *testing.B) {
	payload := []byte(`{"seq":43,"type":"message","at":"2026-12-01T10:00:00.123456789Z","from":{"role":"customer","name":"Dana"},"text":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		if h, ok := eventHead(payload); !ok || h.Seq != 43 {
			b.Fatal("head")
		}
	}
}
