package rooms

import (
	"errors"
	"fmt"
	"time"
)

// DuplicateError says a named commit already happened, and its seq.
type DuplicateError struct{ LastSeq int64 }

func (e *DuplicateError) Error() string { return fmt.Sprintf("already committed as seq %d", e.LastSeq) }

// RateLimitError says a commit came too fast, and when to try again.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many messages; try again in %d ms", e.RetryAfter.Milliseconds())
}

// Unwrap makes it an ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Domain errors; the API maps each to one error code.
var (
	ErrNotFound      = errors.New("not found")
	ErrConflict      = errors.New("concurrent update")
	ErrEmailTaken    = errors.New("email taken")
	ErrRoomFull      = errors.New("room full")
	ErrUnavailable   = errors.New("backend unavailable")
	ErrInvalidState  = errors.New("invalid state")
	ErrJoined        = errors.New("customer already joined")
	ErrForbidden     = errors.New("forbidden")
	ErrSMSDisabled   = errors.New("sms disabled")
	ErrLinkInvalid   = errors.New("link invalid")
	ErrLinkExpired   = errors.New("link expired")
	ErrLinkRevoked   = errors.New("link revoked")
	ErrSessionEnded  = errors.New("session ended")
	ErrRateLimited   = errors.New("rate limited")
	ErrBadCredential = errors.New("bad credentials")
)

// ValidationError names each bad input by its JSON path.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string { return "validation failed" }

// ErrReadOnly refuses a message or task from a participant who may only
// read: a customer whose session ended with limited access, or anyone in
// an ended session.
var ErrReadOnly = errors.New("read only")

// Errors of files.
var (
	ErrFileTooLarge    = errors.New("file too large")
	ErrUnsupportedType = errors.New("unsupported file type")
	ErrNotPDF          = errors.New("not a pdf")
	ErrAssetDeleted    = errors.New("asset deleted")
)

// errNotPDF is what a customer or agent is told: pdfcpu's own words
// name PDF internals.
var errNotPDF = fmt.Errorf("%w: the file is not a PDF that can be read (it may be damaged, cut short or encrypted)", ErrNotPDF)

// ErrBusy refuses work the node has no room for now (every decode slot
// taken past a short wait): the caller tries again shortly.
var ErrBusy = errors.New("busy")

// problems collects validation messages by JSON path.
type problems map[string]string

func (f problems) add(path, msg string) {
	if _, ok := f[path]; !ok {
		f[path] = msg
	}
}

func (f problems) asError() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}
