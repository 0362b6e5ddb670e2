package pdfsign

import (
	"bytes"
	"errors"
	"time"

	"github.com/digitorus/pdfsign/verify"
)

// SealInfo is one digital signature found in a PDF.
type SealInfo struct {
	// Name is the signature dictionary's name (who the seal says signed).
	Name string
	// Signer is the signing certificate's common name.
	Signer string
	// Valid says the signature matches the bytes it covers.
	Valid bool
	// Timestamp is the time-stamping authority's time, when the
	// signature carries a timestamp.
	Timestamp *time.Time
}

// ReadSeals lists the digital signatures of doc (none: an error). It
// checks each against the bytes it covers; whether its certificate is
// trusted is the reader's call (a self-signed identity is not).
func ReadSeals(doc []byte) ([]SealInfo, error) {
	opts := verify.DefaultVerifyOptions()
	opts.AllowUntrustedRoots = true
	opts.RequiredEKUs = nil
	resp, err := verify.VerifyWithOptions(bytes.NewReader(doc), int64(len(doc)), opts)
	if err != nil && resp == nil {
		return nil, err
	}
	if len(resp.Signers) == 0 {
		return nil, errors.New("the document carries no digital signature")
	}
	out := make([]SealInfo, 0, len(resp.Signers))
	for _, s := range resp.Signers {
		info := SealInfo{Name: s.Name, Valid: s.ValidSignature}
		if len(s.Certificates) > 0 && s.Certificates[0].Certificate != nil {
			info.Signer = s.Certificates[0].Certificate.Subject.CommonName
		}
		if s.TimeStamp != nil {
			at := s.TimeStamp.Time.UTC()
			info.Timestamp = &at
		}
		out = append(out, info)
	}
	return out, nil
}

// HasSignature reports whether doc looks digitally signed: any signature
// dictionary names the bytes it covers (/ByteRange). Stamping such a
// document rewrites it and would break that signature.
func HasSignature(doc []byte) bool { return bytes.Contains(doc, []byte("/ByteRange")) }
