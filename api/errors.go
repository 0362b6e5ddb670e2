package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/errcode"
	"github.com/cohub/cohub/rooms"
)

// apiError is the one error shape every route answers with.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// The edge's own errors, in the one table with the domain's.
var (
	errMalformed   = errcode.ErrMalformedJSON
	errTooLarge    = errcode.ErrBodyTooLarge
	errUnauth      = errcode.ErrUnauthenticated
	errCrossOrigin = errcode.ErrCrossOrigin
	// errMalformedUpload is a multipart body that is cut short or has no
	// "file" part.
	errMalformedUpload = errcode.ErrMalformedUpload
)

// writeError answers with the status and code the error maps to
// (internal/errcode's table).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errcode.Of(err)
	out := apiError{Code: e.Code, Message: e.Text(err)}
	if m := customerMessage(r, e, out.Message); m != "" {
		out.Message = m
	}
	var ve *rooms.ValidationError
	if errors.As(err, &ve) {
		out.Fields = ve.Fields
	}
	switch {
	case e.Code == "internal":
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
	case e.Code == "busy":
		w.Header().Set("Retry-After", "1")
	case e.Status >= 500:
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("backend unavailable")
	}
	writeJSON(w, e.Status, map[string]apiError{"error": out})
}

// writeCode answers with a code the edge gives by name.
func writeCode(w http.ResponseWriter, code, message string) {
	e := errcode.Code(code)
	if message == "" {
		message = e.Message
	}
	writeJSON(w, e.Status, map[string]apiError{"error": {Code: e.Code, Message: message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
