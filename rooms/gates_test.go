package rooms

import "testing"

// The per-network send bound counts an IPv6 client by its /64 and an
// IPv4 one by its address, however it is written.
func TestNetworkKey(t *testing.T) {
	for _, c := range []struct{ ip, want string }{
		{"198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2:aaaa::", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
		{"not-an-ip", "not-an-ip"},
		{"", ""},
	} {
		if got := networkKey(c.ip); got != c.want {
			t.Errorf("networkKey(%q) = %q, want %q", c.ip, got, c.want)
		}
	}
	if networkKey("198.51.100.7") == networkKey("198.51.100.8") {
		t.Error("two IPv4 addresses share a budget")
	}
}
