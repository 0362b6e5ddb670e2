// Package errcode is Cohub's one table of errors: every code a client
// may be told, its HTTP status, the message a developer reads, and the
// domain error it answers. The HTTP edge (api) answers with it, the hub
// replies to frames and refuses upgrades with it; the pages' plain
// words (static/js/words.js) and docs/DESIGN.md's code table have a row
// for each code, which a test checks. It imports the domain's errors
// and nothing of api or hub.
package errcode

import (
	"errors"
	"net/http"

	"github.com/cohub/cohub/rooms"
)

// The edge's own errors: what a request, not the domain, got wrong.
var (
	ErrMalformedJSON   = errors.New("malformed json")
	ErrBodyTooLarge    = errors.New("body too large")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrCrossOrigin     = errors.New("cross-origin request")
	ErrMalformedUpload = errors.New("malformed upload")
)

// Entry is one row of the table.
type Entry struct {
	Code string
	// Status is the HTTP status; 0 for a code only frame replies carry.
	Status int
	// Message is what a developer reads when the error carries no reason
	// of its own.
	Message string
	// Err is the error the code answers; nil for a code the edge or the
	// protocol give by name.
	Err error
	// Hide keeps the error's own text out of the answer (it may carry a
	// backend's detail); it goes to the log only.
	Hide bool
}

// Table lists every code. Where two errors share a code, the first
// entry's status and message are the code's.
var Table = []Entry{
	{Code: "validation_failed", Status: http.StatusBadRequest, Message: "some fields are not valid"},
	{Code: "malformed_json", Status: http.StatusBadRequest, Message: "the request body is not valid JSON", Err: ErrMalformedJSON},
	{Code: "body_too_large", Status: http.StatusRequestEntityTooLarge, Message: "the request body is larger than 1 MiB", Err: ErrBodyTooLarge},
	{Code: "unauthenticated", Status: http.StatusUnauthorized, Message: "sign in first, or the credential is not valid", Err: ErrUnauthenticated},
	{Code: "unauthenticated", Status: http.StatusUnauthorized, Message: "sign in first, or the credential is not valid", Err: rooms.ErrBadCredential},
	{Code: "unauthenticated", Status: http.StatusUnauthorized, Message: "the link is not valid", Err: rooms.ErrLinkInvalid},
	{Code: "forbidden", Status: http.StatusForbidden, Message: "you may not do this", Err: ErrCrossOrigin},
	{Code: "forbidden", Status: http.StatusForbidden, Message: "you may not do this", Err: rooms.ErrForbidden},
	{Code: "password_sign_in_off", Status: http.StatusForbidden, Message: "password sign-in is turned off for agents and supervisors; sign in with single sign-on", Err: rooms.ErrPasswordOff},
	{Code: "email_unverified", Status: http.StatusForbidden, Message: "the sign-in provider has not verified this email", Err: rooms.ErrEmailUnverified},
	{Code: "no_account", Status: http.StatusForbidden, Message: "no Cohub account has this email; ask an admin", Err: rooms.ErrNoAccount},
	{Code: "malformed_upload", Status: http.StatusBadRequest, Message: "the upload is not a complete multipart body with a \"file\" part", Err: ErrMalformedUpload},
	{Code: "file_too_large", Status: http.StatusRequestEntityTooLarge, Message: "the file is too large", Err: rooms.ErrFileTooLarge},
	{Code: "unsupported_type", Status: http.StatusUnsupportedMediaType, Message: "send a JPEG or PNG photo, or a PDF", Err: rooms.ErrUnsupportedType},
	{Code: "invalid_document", Status: http.StatusBadRequest, Message: "the file is not a PDF that can be read", Err: rooms.ErrNotPDF},
	{Code: "asset_deleted", Status: http.StatusGone, Message: "the file was deleted", Err: rooms.ErrAssetDeleted},
	{Code: "read_only", Status: http.StatusConflict, Message: "this session has ended: it can be read, not changed", Err: rooms.ErrReadOnly},
	{Code: "sms_disabled", Status: http.StatusBadRequest, Message: "SMS invitations are turned off; invite by email", Err: rooms.ErrSMSDisabled},
	{Code: "not_found", Status: http.StatusNotFound, Message: "no such resource", Err: rooms.ErrNotFound},
	{Code: "method_not_allowed", Status: http.StatusMethodNotAllowed, Message: "the method is not allowed here"},
	{Code: "invalid_state", Status: http.StatusConflict, Message: "the session's state does not allow this", Err: rooms.ErrInvalidState},
	{Code: "customer_already_joined", Status: http.StatusConflict, Message: "the customer has already joined; their details can no longer change", Err: rooms.ErrJoined},
	{Code: "email_taken", Status: http.StatusConflict, Message: "another account uses this email", Err: rooms.ErrEmailTaken},
	{Code: "room_full", Status: http.StatusConflict, Message: "this session has reached its event limit", Err: rooms.ErrRoomFull},
	{Code: "conflict", Status: http.StatusConflict, Message: "the session changed meanwhile; try again", Err: rooms.ErrConflict},
	{Code: "link_expired", Status: http.StatusGone, Message: "this link has expired; ask for a new one", Err: rooms.ErrLinkExpired},
	{Code: "link_revoked", Status: http.StatusGone, Message: "this link is no longer valid", Err: rooms.ErrLinkRevoked},
	{Code: "session_ended", Status: http.StatusGone, Message: "this session has ended", Err: rooms.ErrSessionEnded},
	{Code: "rate_limited", Status: http.StatusTooManyRequests, Message: "too many requests; try again shortly", Err: rooms.ErrRateLimited},
	{Code: "backend_unavailable", Status: http.StatusServiceUnavailable, Message: "the service is temporarily unavailable; try again shortly", Err: rooms.ErrUnavailable, Hide: true},
	{Code: "busy", Status: http.StatusServiceUnavailable, Message: "the server is busy processing other files; try again in a moment", Err: rooms.ErrBusy},
	{Code: "internal", Status: http.StatusInternalServerError, Message: "something went wrong on our side", Hide: true},
	// Codes only frame replies carry (docs/DESIGN.md §6).
	{Code: "not_joined", Message: "join the topic first"},
	{Code: "bad_frame", Message: "the frame is not valid"},
	{Code: "unknown_op", Message: "no such op"},
	{Code: "too_many_topics", Message: "at most 100 topics per connection"},
	{Code: "overloaded", Message: "the service is busy; try again in a moment"},
}

// byCode is each code's first entry.
var byCode = func() map[string]Entry {
	m := map[string]Entry{}
	for _, e := range Table {
		if _, ok := m[e.Code]; !ok {
			m[e.Code] = e
		}
	}
	return m
}()

// Of is err's entry: a validation error's, the first entry whose error
// err wraps, else internal.
func Of(err error) Entry {
	var ve *rooms.ValidationError
	if errors.As(err, &ve) {
		return byCode["validation_failed"]
	}
	for _, e := range Table {
		if e.Err != nil && errors.Is(err, e.Err) {
			return e
		}
	}
	return byCode["internal"]
}

// Code is a code's entry; a code not in the table is a bug, answered
// as internal.
func Code(code string) Entry {
	if e, ok := byCode[code]; ok {
		return e
	}
	return byCode["internal"]
}

// Text is what err's answer says: the reason it wraps around its
// entry's error ("invalid state: only a planned session can be
// invited"), or the entry's message when it carries none or may carry
// a backend's detail.
func (e Entry) Text(err error) string {
	if e.Hide || e.Err == nil || err == nil || err == e.Err {
		return e.Message
	}
	return err.Error()
}
