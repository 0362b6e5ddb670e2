package pdfsign_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/pdfsign/sealtest"
)

const testSecret = "seal-test-secret-0123456789"

func sealer(t *testing.T, opts pdfsign.SealOptions) *pdfsign.Sealer {
	t.Helper()
	id, err := pdfsign.DerivedIdentity([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	s, err := pdfsign.NewSealer(id, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func stamped(t *testing.T, pages int) []byte {
	t.Helper()
	doc, err := pdfsign.Sign(pdfsign.Sample("Offer", pages), pdfsign.Stamp{Name: "Dana Signer", At: time.Now(), SessionID: "s_1"})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// A signed copy carries a valid signature over the whole file, by the
// identity's common name, with the TSA's timestamp; one changed byte
// makes it invalid.
func TestSealIsValidAndTimestamped(t *testing.T) {
	tsa := sealtest.StartTSA(t)
	before := time.Now().Add(-time.Second)
	out, err := sealer(t, pdfsign.SealOptions{TSA: tsa.URL}).Seal(stamped(t, 2), "Dana Signer", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	report := sealtest.Pdfsig(t, out.PDF)
	for _, want := range []string{"Signature is Valid", "Total document signed", "Signer Certificate Common Name: Cohub (self-signed)"} {
		if !strings.Contains(report, want) {
			t.Fatalf("pdfsig does not say %q:\n%s", want, report)
		}
	}
	if out.Timestamp == nil || out.Timestamp.Before(before) || tsa.Served.Load() != 1 {
		t.Fatalf("timestamp %v (the TSA served %d)", out.Timestamp, tsa.Served.Load())
	}
	seals, err := pdfsign.ReadSeals(out.PDF)
	if err != nil || len(seals) != 1 || seals[0].Timestamp == nil || !seals[0].Timestamp.Equal(*out.Timestamp) {
		t.Fatalf("read back: %+v, %v", seals, err)
	}
	changed := append([]byte(nil), out.PDF...)
	i := strings.Index(string(changed), "Offer")
	changed[i] = 'X'
	if report := sealtest.Pdfsig(t, changed); strings.Contains(report, "Signature is Valid") {
		t.Fatalf("a changed byte still verifies:\n%s", report)
	}
}

// A TSA that is down or slower than TSAWait does not stop a signature:
// the copy is sealed without a timestamp, which says why; with
// TSARequired nothing is sealed.
func TestSealWithoutTheTSA(t *testing.T) {
	tsa := sealtest.StartTSA(t)
	tsa.Slow(2 * time.Second)
	s := sealer(t, pdfsign.SealOptions{TSA: tsa.URL, TSAWait: 200 * time.Millisecond})
	out, err := s.Seal(stamped(t, 1), "Dana Signer", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if out.Timestamp != nil || out.TimestampError == "" {
		t.Fatalf("a slow TSA: timestamp %v, why %q", out.Timestamp, out.TimestampError)
	}
	if report := sealtest.Pdfsig(t, out.PDF); !strings.Contains(report, "Signature is Valid") {
		t.Fatalf("the copy sealed without a timestamp:\n%s", report)
	}
	tsa.Slow(0)
	tsa.Down(true)
	required := sealer(t, pdfsign.SealOptions{TSA: tsa.URL, TSARequired: true})
	if _, err := required.Seal(stamped(t, 1), "Dana Signer", time.Now()); !errors.Is(err, pdfsign.ErrTimestamp) {
		t.Fatalf("a required timestamp from a TSA that is down: %v", err)
	}
	tsa.Down(false)
	if out, err := required.Seal(stamped(t, 1), "Dana Signer", time.Now()); err != nil || out.Timestamp == nil {
		t.Fatalf("the TSA back: %v, %v", out.Timestamp, err)
	}
}

// Every node derives the same identity from the same secret; another
// secret gives another.
func TestDerivedIdentityIsShared(t *testing.T) {
	a, err := pdfsign.DerivedIdentity([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	b, err := pdfsign.DerivedIdentity([]byte(testSecret + "x"))
	if err != nil {
		t.Fatal(err)
	}
	if !a.SelfSigned || a.About().Fingerprint == b.About().Fingerprint {
		t.Fatalf("identities: %+v and %+v", a.About(), b.About())
	}
	if !a.Cert.NotAfter.After(time.Now().AddDate(10, 0, 0)) {
		t.Fatalf("the derived certificate ends %s", a.Cert.NotAfter)
	}
}

// A configured identity is refused, in a sentence that says which, when
// its key is another's, its certificate has expired, or a file is not
// PEM.
func TestLoadIdentityRefuses(t *testing.T) {
	now := time.Now()
	certPEM, keyPEM := sealtest.Identity(t, "Bank signing", now.Add(-time.Hour), now.Add(time.Hour))
	if id, err := pdfsign.LoadIdentity(certPEM, keyPEM, now); err != nil || id.Cert.Subject.CommonName != "Bank signing" {
		t.Fatalf("a good identity: %v", err)
	}
	_, otherKey := sealtest.Identity(t, "Bank signing", now.Add(-time.Hour), now.Add(time.Hour))
	oldCert, oldKey := sealtest.Identity(t, "Bank signing", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	for name, c := range map[string]struct {
		cert, key []byte
		want      string
	}{
		"another's key": {certPEM, otherKey, "not the signing certificate's key"},
		"expired":       {oldCert, oldKey, "expired"},
		"not PEM":       {[]byte("hello"), keyPEM, "not a PEM certificate"},
		"no key":        {certPEM, []byte("hello"), "not a PEM private key"},
	} {
		if _, err := pdfsign.LoadIdentity(c.cert, c.key, now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
