package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/rooms"
)

// apiError is the one error shape every route answers with.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// The edge's own errors, mapped like the domain's.
var (
	errMalformed   = errors.New("malformed json")
	errTooLarge    = errors.New("body too large")
	errUnauth      = errors.New("unauthenticated")
	errCrossOrigin = errors.New("cross-origin request")
)

// errorCodes maps domain errors to HTTP statuses and codes, in one place.
var errorCodes = []struct {
	err    error
	status int
	code   string
}{
	{errMalformed, http.StatusBadRequest, "malformed_json"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "body_too_large"},
	{errUnauth, http.StatusUnauthorized, "unauthenticated"},
	{errCrossOrigin, http.StatusForbidden, "forbidden"},
	{errMalformedUpload, http.StatusBadRequest, "malformed_upload"},
	{rooms.ErrFileTooLarge, http.StatusRequestEntityTooLarge, "file_too_large"},
	{rooms.ErrUnsupportedType, http.StatusUnsupportedMediaType, "unsupported_type"},
	{rooms.ErrNotPDF, http.StatusBadRequest, "invalid_document"},
	{rooms.ErrAssetDeleted, http.StatusGone, "asset_deleted"},
	{rooms.ErrReadOnly, http.StatusConflict, "read_only"},
	{rooms.ErrSMSDisabled, http.StatusBadRequest, "sms_disabled"},
	{rooms.ErrBadCredential, http.StatusUnauthorized, "unauthenticated"},
	{rooms.ErrLinkInvalid, http.StatusUnauthorized, "unauthenticated"},
	{rooms.ErrForbidden, http.StatusForbidden, "forbidden"},
	{rooms.ErrNotFound, http.StatusNotFound, "not_found"},
	{rooms.ErrInvalidState, http.StatusConflict, "invalid_state"},
	{rooms.ErrJoined, http.StatusConflict, "customer_already_joined"},
	{rooms.ErrEmailTaken, http.StatusConflict, "email_taken"},
	{rooms.ErrRoomFull, http.StatusConflict, "room_full"},
	{rooms.ErrConflict, http.StatusConflict, "conflict"},
	{rooms.ErrLinkExpired, http.StatusGone, "link_expired"},
	{rooms.ErrLinkRevoked, http.StatusGone, "link_revoked"},
	{rooms.ErrSessionEnded, http.StatusGone, "session_ended"},
	{rooms.ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{rooms.ErrUnavailable, http.StatusServiceUnavailable, "backend_unavailable"},
	{rooms.ErrBusy, http.StatusServiceUnavailable, "busy"},
}

// messages are the human texts for errors whose own text is terse.
var messages = map[string]string{
	"malformed_json":          "the request body is not valid JSON",
	"body_too_large":          "the request body is larger than 1 MiB",
	"unauthenticated":         "sign in first, or the credential is not valid",
	"forbidden":               "you may not do this",
	"not_found":               "no such resource",
	"customer_already_joined": "the customer has already joined; their details can no longer change",
	"email_taken":             "another account uses this email",
	"sms_disabled":            "SMS invitations are turned off; invite by email",
	"link_expired":            "this link has expired; ask for a new one",
	"link_revoked":            "this link is no longer valid",
	"session_ended":           "this session has ended",
	"rate_limited":            "too many requests; try again shortly",
	"backend_unavailable":     "the service is temporarily unavailable; try again shortly",
	"busy":                    "the server is busy processing other files; try again in a moment",
	"room_full":               "this session has reached its event limit",
	"conflict":                "the session changed meanwhile; try again",
	"validation_failed":       "some fields are not valid",
	"malformed_upload":        "the upload is not a complete multipart body with a \"file\" part",
}

// WriteError answers with the status and code an error maps to: the
// hub refuses WebSocket upgrades with it.
func WriteError(w http.ResponseWriter, r *http.Request, err error) { writeError(w, r, err) }

// writeError answers with the status and code the error maps to.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *rooms.ValidationError
	if errors.As(err, &ve) {
		writeJSON(w, http.StatusBadRequest, map[string]apiError{"error": {
			Code: "validation_failed", Message: messages["validation_failed"], Fields: ve.Fields}})
		return
	}
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			switch {
			case e.err == rooms.ErrBusy:
				w.Header().Set("Retry-After", "1")
			case e.status >= 500:
				zerolog.Ctx(r.Context()).Warn().Err(err).Msg("backend unavailable")
			}
			writeJSON(w, e.status, map[string]apiError{"error": {Code: e.code, Message: message(e.code, e.err, err)}})
			return
		}
	}
	zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
	writeJSON(w, http.StatusInternalServerError, map[string]apiError{"error": {
		Code: "internal", Message: "something went wrong on our side"}})
}

// message prefers the domain's explanation ("invalid state: only a
// planned session can be invited") where it wraps the bare error; a
// backend's own text stays in the logs.
func message(code string, sentinel, err error) string {
	m, ok := messages[code]
	if !ok || (err != sentinel && sentinel != rooms.ErrUnavailable) {
		return err.Error()
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
