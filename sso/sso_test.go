package sso

import (
	"strings"
	"testing"
)

// TestNewRefuses: an issuer that is not an http(s) URL, or no client id,
// is refused with the rule; the button's name defaults to the issuer's host.
func TestNewRefuses(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Issuer: "login.example.com", ClientID: "cohub"}, "must be an http(s) URL"},
		{Config{Issuer: "ftp://login.example.com", ClientID: "cohub"}, "must be an http(s) URL"},
		{Config{Issuer: "https://login.example.com"}, "client id is required"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	p, err := New(Config{Issuer: "https://login.example.com/realms/bank", ClientID: "cohub"})
	if err != nil || p.Name() != "login.example.com" {
		t.Fatalf("name %q, %v", p.Name(), err)
	}
}

// TestVerified: email_verified counts only when it says true, as a
// boolean or, as some providers send it, a string.
func TestVerified(t *testing.T) {
	for v, want := range map[any]bool{true: true, "true": true, "TRUE": true, false: false, "false": false, "yes": false, 1.0: false} {
		if got := verified(v); got != want {
			t.Errorf("verified(%#v) = %v, want %v", v, got, want)
		}
	}
	if verified(nil) {
		t.Error("a missing email_verified counts as verified")
	}
}
