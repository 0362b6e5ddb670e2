package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/pdfsign/sealtest"
)

// The signing identity comes from files or PEM in the variables; a
// start with one that cannot serve is refused in a sentence that says
// which; none configured is the identity derived from the secret.
func TestSigningIdentityFlags(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key := sealtest.Identity(t, "Bank signing", now.Add(-time.Hour), now.Add(time.Hour))
	_, otherKey := sealtest.Identity(t, "Other", now.Add(-time.Hour), now.Add(time.Hour))
	oldCert, oldKey := sealtest.Identity(t, "Old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	certFile, keyFile := write("cert.pem", cert), write("key.pem", key)
	for name, c := range map[string]struct {
		cert, key, want string
	}{
		"files":          {certFile, keyFile, ""},
		"PEM in the env": {string(cert), string(key), ""},
		"another's key":  {certFile, write("other.pem", otherKey), "not the signing certificate's key"},
		"expired":        {write("old.pem", oldCert), write("oldkey.pem", oldKey), "expired"},
		"missing file":   {filepath.Join(dir, "none.pem"), keyFile, "--signing-cert: the file cannot be read"},
		"cert alone":     {certFile, "", "go together"},
	} {
		cfg := &config{SigningCert: c.cert, SigningKey: c.key}
		s, err := openSealer(cfg, []byte("secret-0123456789abcdef"), zerolog.Nop())
		switch {
		case c.want == "" && (err != nil || s.Identity().Cert.Subject.CommonName != "Bank signing"):
			t.Errorf("%s: %v", name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	s, err := openSealer(&config{}, []byte("secret-0123456789abcdef"), zerolog.Nop())
	if err != nil || !s.Identity().SelfSigned {
		t.Fatalf("no identity configured: %v", err)
	}
}
