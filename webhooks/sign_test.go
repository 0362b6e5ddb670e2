package webhooks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/webhooks"
)

// TestSignSpecVector: the Standard Webhooks spec's own example (its
// libraries' tests use it) signs to the signature the spec gives.
func TestSignSpecVector(t *testing.T) {
	got, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign = %q, %v", got, err)
	}
	if _, err := webhooks.Sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", time.Now(), nil); err == nil {
		t.Fatal("a secret without whsec_ signed")
	}
	if s := webhooks.NewSecret(); !strings.HasPrefix(s, "whsec_") || len(s) != len("whsec_")+44 {
		t.Fatalf("NewSecret = %q", s)
	}
}
