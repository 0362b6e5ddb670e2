package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Per-IP login limits count the client, not the load balancer: a trusted
// proxy's X-Forwarded-For is followed to the first untrusted hop; anyone
// else's is ignored, so it cannot be forged to dodge the limit.
func TestClientIP(t *testing.T) {
	s := &Server{opts: Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	for _, c := range []struct{ peer, xff, want string }{
		{"203.0.113.9:5000", "", "203.0.113.9"},
		{"203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},         // untrusted peer: header ignored
		{"10.0.0.2:5000", "198.51.100.1", "198.51.100.1"},           // through the load balancer
		{"10.0.0.2:5000", "6.6.6.6, 198.51.100.1", "198.51.100.1"},  // a forged left hop is not believed
		{"10.0.0.2:5000", "198.51.100.1, 10.0.0.7", "198.51.100.1"}, // two proxies
		{"10.0.0.2:5000", "not-an-ip", "10.0.0.2"},
	} {
		r := httptest.NewRequest("POST", "/api/login", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}
