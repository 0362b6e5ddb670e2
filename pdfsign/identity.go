package pdfsign

import (
	"bytes"
	"crypto"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"
)

// Identity is who seals signed copies: a certificate and its key. Every
// node of one Cohub signs with the same one.
type Identity struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// SelfSigned says nobody vouches for Cert: a reader shows the
	// signature intact but its signer unknown.
	SelfSigned bool
}

// About describes an identity for the admin screens.
type About struct {
	// Name is the certificate's common name (its subject when it has
	// none): who a reader shows as the signer.
	Name        string    `json:"name"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	NotAfter    time.Time `json:"not_after"`
	Fingerprint string    `json:"fingerprint_sha256"`
	SelfSigned  bool      `json:"self_signed"`
}

// About is what the admin sees of the identity.
func (id *Identity) About() About {
	sum := sha256.Sum256(id.Cert.Raw)
	name := id.Cert.Subject.CommonName
	if name == "" {
		name = id.Cert.Subject.String()
	}
	return About{Name: name, Subject: id.Cert.Subject.String(), Issuer: id.Cert.Issuer.String(), NotAfter: id.Cert.NotAfter,
		Fingerprint: hex.EncodeToString(sum[:]), SelfSigned: id.SelfSigned}
}

// LoadIdentity reads a PEM certificate (the signer's first, then its
// chain, which is ignored) and its PEM private key, and refuses, in a
// sentence that says which, a certificate that is not valid at now or a
// key that is not the certificate's.
func LoadIdentity(certPEM, keyPEM []byte, now time.Time) (*Identity, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("the signing certificate is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the signing certificate cannot be read: %w", err)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("the signing certificate expired on %s", cert.NotAfter.Format(time.DateOnly))
	}
	if now.Before(cert.NotBefore) {
		return nil, fmt.Errorf("the signing certificate is not valid before %s", cert.NotBefore.Format(time.DateOnly))
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	if !samePublic(key.Public(), cert.PublicKey) {
		return nil, errors.New("the signing key is not the signing certificate's key")
	}
	self := cert.CheckSignatureFrom(cert) == nil
	return &Identity{Cert: cert, Key: key, SelfSigned: self}, nil
}

func parseKey(keyPEM []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("the signing key is not a PEM private key")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("the signing key cannot be read: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("the signing key cannot sign")
	}
	return signer, nil
}

func samePublic(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// documentSigning is the Document Signing extended key usage (RFC 9336).
var documentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

var derived sync.Map // string(secret) → *derivation

type derivation struct {
	once sync.Once
	id   *Identity
	err  error
}

// DerivedIdentity is the self-signed identity Cohub signs with when none
// is configured. It is derived from the nodes' shared secret, so every
// node makes the same key and the same certificate, byte for byte
// (RSA keys and PKCS #1 v1.5 signatures involve no randomness once the
// primes are chosen from the secret). It is made once per process.
func DerivedIdentity(secret []byte) (*Identity, error) {
	v, _ := derived.LoadOrStore(string(secret), &derivation{})
	d := v.(*derivation)
	d.once.Do(func() { d.id, d.err = derive(secret) })
	return d.id, d.err
}

func derive(secret []byte) (*Identity, error) {
	seed, err := hkdf.Key(sha256.New, secret, []byte("cohub signing identity"), "v1", 2*128+16)
	if err != nil {
		return nil, err
	}
	stream := bytes.NewReader(seed)
	p, err := primeFrom(stream, 1024)
	if err != nil {
		return nil, err
	}
	q, err := primeFrom(stream, 1024)
	if err != nil {
		return nil, err
	}
	key, err := rsaKey(p, q)
	if err != nil {
		return nil, err
	}
	serial := make([]byte, 16)
	if _, err := io.ReadFull(stream, serial); err != nil {
		return nil, err
	}
	serial[0] &= 0x7f
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serial),
		Subject:               pkix.Name{CommonName: "Cohub (self-signed)", Organization: []string{"Cohub"}},
		NotBefore:             time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageCertSign,
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{documentSigning},
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Identity{Cert: cert, Key: key, SelfSigned: true}, nil
}

// primeFrom takes bits from r as a starting point (top two bits and the
// low bit set) and returns the first probable prime at or after it
// whose predecessor is coprime to the public exponent.
func primeFrom(r io.Reader, bits int) (*big.Int, error) {
	b := make([]byte, bits/8)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	b[0] |= 0xc0
	b[len(b)-1] |= 1
	p := new(big.Int).SetBytes(b)
	two, e := big.NewInt(2), big.NewInt(65537)
	for {
		if p.ProbablyPrime(32) && new(big.Int).GCD(nil, nil, new(big.Int).Sub(p, big.NewInt(1)), e).Cmp(big.NewInt(1)) == 0 {
			return p, nil
		}
		p.Add(p, two)
	}
}

func rsaKey(p, q *big.Int) (*rsa.PrivateKey, error) {
	one := big.NewInt(1)
	n := new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	d := new(big.Int).ModInverse(big.NewInt(65537), phi)
	if d == nil {
		return nil, errors.New("derived primes do not make a key")
	}
	key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
	if err := key.Validate(); err != nil {
		return nil, err
	}
	key.Precompute()
	return key, nil
}
