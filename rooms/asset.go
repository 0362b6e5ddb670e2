package rooms

import (
	"time"

	"github.com/cohub/cohub/pdfsign"
)

// Asset kinds: the PDF a sign task asks to sign, its signed copy, a
// customer's upload, a form's answers.
const (
	AssetDocument = "document"
	AssetSigned   = "signed"
	AssetUpload   = "upload"
	AssetForm     = "form"
)

// Asset is a file a session keeps. Its bytes are in the blob store
// under a random key that never leaves the server.
type Asset struct {
	ID        string    `json:"id"`
	SessionID string    `json:"session_id"`
	TaskID    string    `json:"task_id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	By        Actor     `json:"by"`
	At        time.Time `json:"at"`
	// Audit is a signed copy's record of how it was signed.
	Audit *SignatureAudit `json:"audit,omitempty"`
	// DeletedAt is when the retention sweep deleted the bytes.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	BlobKey   string     `json:"-"`
}

// SignatureAudit records a signature: who, when, from where, the hashes
// of what was signed and of the signed copy, and the gates the signing
// browser had passed.
type SignatureAudit struct {
	Signer         string     `json:"signer"`
	Method         string     `json:"method"` // drawn or typed
	At             time.Time  `json:"at"`
	IP             string     `json:"ip"`
	UserAgent      string     `json:"user_agent"`
	SessionID      string     `json:"session_id"`
	DocumentID     string     `json:"document_id"`
	OriginalSHA256 string     `json:"original_sha256"`
	SignedSHA256   string     `json:"signed_sha256"`
	Gates          GateStatus `json:"gates"`
	// Seal is the signed copy's digital signature; absent on copies
	// signed before Cohub sealed them.
	Seal *SealRecord `json:"seal,omitempty"`
}

// SigningIdentity is who signed copies are sealed as, and whether seals
// carry a time-stamping authority's time.
type SigningIdentity struct {
	pdfsign.About
	Timestamps bool `json:"timestamps"`
}

// SealRecord is the digital signature on a signed copy: the identity
// the server signed as and the time-stamping authority's time.
type SealRecord struct {
	// Signer is the signing certificate's name (its common name).
	Signer      string `json:"signer"`
	Fingerprint string `json:"fingerprint_sha256"`
	SelfSigned  bool   `json:"self_signed"`
	// Timestamp is the authority's time; when there is none,
	// TimestampError says why.
	Timestamp      *time.Time `json:"timestamp,omitempty"`
	TimestampError string     `json:"timestamp_error,omitempty"`
}

// Client is where a customer's request came from, for the audit record.
type Client struct {
	IP, UserAgent string
}

// DefaultMaxUpload bounds a file (DESIGN.md §8).
const DefaultMaxUpload = 10 << 20

// maxPixels bounds an image's size before it is decoded: a small file
// may claim a huge picture.
const maxPixels = 50_000_000

// Types a customer may upload, by their content.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypePDF  = "application/pdf"
	typeJSON = "application/json"
)

// assetTime keeps asset times to the millisecond, as JSON round trips
// them everywhere.
func assetTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
