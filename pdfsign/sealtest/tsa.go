// Package sealtest is what tests of sealed copies need: a real RFC 3161
// time-stamping authority in the test process (tokens signed by a
// certificate of its own; it can be made slow or down), and poppler's
// pdfsig as an outside verifier.
package sealtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// TSA is a running authority.
type TSA struct {
	URL  string
	Cert *x509.Certificate
	// Served counts the tokens it gave.
	Served atomic.Int64
	key    crypto.Signer
	delay  atomic.Int64 // ns each answer waits
	down   atomic.Bool
}

// StartTSA runs an authority until the test ends.
func StartTSA(t testing.TB) *TSA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "Cohub test TSA"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	a := &TSA{Cert: cert, key: key}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

// Slow makes each answer wait d (0: at once).
func (a *TSA) Slow(d time.Duration) { a.delay.Store(int64(d)) }

// Down makes the authority answer 503 while on.
func (a *TSA) Down(on bool) { a.down.Store(on) }

func (a *TSA) serve(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(a.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if a.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, "not a timestamp request", http.StatusBadRequest)
		return
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              time.Now(),
		Policy:            asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 58049, 1, 1},
		Nonce:             req.Nonce,
		Ordering:          false,
		Qualified:         false,
		AddTSACertificate: req.Certificates,
		SerialNumber:      big.NewInt(a.Served.Load() + 1),
	}
	resp, err := ts.CreateResponseWithOpts(a.Cert, a.key, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	a.Served.Add(1)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}
