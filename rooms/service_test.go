package rooms

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLinkSignature(t *testing.T) {
	secret := []byte("0123456789abcdef")
	exp := time.Unix(1900000000, 0).UTC()
	tok := signLink(secret, LinkClaims{SessionID: "s_1", Gen: 3, Expires: exp})
	c, err := parseLink(secret, tok)
	if err != nil || c.SessionID != "s_1" || c.Gen != 3 || !c.Expires.Equal(exp) {
		t.Fatalf("round trip: %+v %v", c, err)
	}
	for _, bad := range []string{
		strings.Replace(tok, ".3.", ".4.", 1), // another generation
		strings.Replace(tok, "s_1", "s_2", 1), // another session
		tok[:len(tok)-1],                      // cut signature
		"", "no-dots", "a.b.c.d.e",
	} {
		if _, err := parseLink(secret, bad); !errors.Is(err, ErrLinkInvalid) {
			t.Errorf("%q: %v, want ErrLinkInvalid", bad, err)
		}
	}
	if _, err := parseLink([]byte("another-secret-xx"), tok); !errors.Is(err, ErrLinkInvalid) {
		t.Errorf("a link signed with another secret was accepted")
	}
}

func TestIndicatorStates(t *testing.T) {
	pending := []Task{{Status: TaskPending}}
	done := []Task{{Status: TaskCompleted}}
	for _, c := range []struct {
		joined, online bool
		tasks          []Task
		want           string
	}{
		{false, false, done, NeverJoined},
		{false, true, nil, NeverJoined},
		{true, true, pending, OnlineIncomplete},
		{true, true, nil, OnlineIncomplete}, // no task is not completed
		{true, false, pending, OfflineIncomplete},
		{true, true, done, OnlineCompleted},
		{true, false, done, OfflineCompleted},
	} {
		s := &Session{Tasks: c.tasks, Internal: SessionInternal{Joined: c.joined}}
		if got := ComputeIndicator(s, c.online, time.Now()); got.State != c.want {
			t.Errorf("joined=%v online=%v tasks=%v: %s, want %s", c.joined, c.online, c.tasks, got.State, c.want)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[time.Duration]string{72 * time.Hour: `"72h"`, 90 * time.Minute: `"1h30m"`, 0: `"0s"`, 1500 * time.Millisecond: `"1.5s"`} {
		b, _ := json.Marshal(Duration(in))
		if string(b) != want {
			t.Errorf("%v marshals to %s, want %s", in, b, want)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back.Std() != in {
			t.Errorf("%s reads back as %v (%v)", b, back, err)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"soon"`), &d); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func TestCustomerAccess(t *testing.T) {
	end := time.Now()
	s := &Session{State: StateEnded, EndedAt: &end}
	for _, c := range []struct {
		access EndAccess
		at     time.Duration
		want   string
	}{
		{EndAccess{Mode: AccessNone}, 0, ""},
		{EndAccess{Mode: AccessFull}, 1000 * time.Hour, AccessLevelFull},
		{EndAccess{Mode: AccessFullFor, Duration: Duration(time.Hour)}, 59 * time.Minute, AccessLevelFull},
		{EndAccess{Mode: AccessFullFor, Duration: Duration(time.Hour)}, time.Hour, ""},
		{EndAccess{Mode: AccessLimitedFor, Duration: Duration(time.Hour)}, 30 * time.Minute, AccessLevelLimited},
		{EndAccess{Mode: AccessLimitedFor, Duration: Duration(time.Hour)}, 2 * time.Hour, ""},
	} {
		s.Access = &c.access
		if got := CustomerAccess(s, end.Add(c.at)); got != c.want {
			t.Errorf("%+v at +%v: %q, want %q", c.access, c.at, got, c.want)
		}
	}
	if CustomerAccess(&Session{State: StateActive}, end) != AccessLevelFull {
		t.Error("an active session gives full access")
	}
}

// Tokens stored before token generations existed hold a bare agent id:
// they read as generation 0, which every agent starts at.
func TestLoginTokenEncoding(t *testing.T) {
	for stored, want := range map[string]LoginToken{
		"a_1":   {AgentID: "a_1"},
		"a_1 0": {AgentID: "a_1"},
		"a_1 7": {AgentID: "a_1", Gen: 7},
	} {
		if got := DecodeLoginToken(stored); got != want {
			t.Errorf("decode %q = %+v, want %+v", stored, got, want)
		}
	}
	if got := DecodeLoginToken(LoginToken{AgentID: "a_2", Gen: 3}.Encode()); got != (LoginToken{AgentID: "a_2", Gen: 3}) {
		t.Errorf("round trip = %+v", got)
	}
}

// A record written when "locked" was the authentication itself reads as
// a timed lockout: locked until its time, then pending again.
func TestLegacyLockedRecord(t *testing.T) {
	until := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	b, err := json.Marshal(map[string]any{"id": "s_1", "state": "active",
		"internal": map[string]any{"authentication": "locked", "auth_fails": 5, "locked_until": until}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeSession(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := authState(s, until.Add(-time.Minute)); got != AuthLocked {
		t.Fatalf("before the lock ends: %s", got)
	}
	if got := authState(s, until); got != AuthPending {
		t.Fatalf("when the lock ends: %s", got)
	}
	if s.Internal.Lockouts != 1 {
		t.Fatalf("the next lockout must escalate: lockouts %d", s.Internal.Lockouts)
	}
}
