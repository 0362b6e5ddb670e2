package api

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// statusWriter remembers the status for the request log. It keeps
// http.Hijacker and Unwrap working so WebSocket upgrades pass through.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Hijack hands the connection over (WebSocket upgrades).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot hijack")
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Flush passes flushes through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// logRequests gives each request an id (kept from X-Request-Id when sane),
// a logger carrying it, and one log line when it ends. Paths are logged
// without query strings and with customer link tokens cut, since both
// carry credentials.
func logRequests(base zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		log := base.With().Str("request_id", id).Logger()
		r = r.WithContext(log.WithContext(r.Context()))
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				log.Error().Interface("panic", p).Str("path", safePath(r.URL.Path)).Msg("handler panicked")
				if sw.status == 0 {
					writeCode(sw, "internal", "")
				}
			}
			log.Info().Str("method", r.Method).Str("path", safePath(r.URL.Path)).Int("status", sw.status).
				Int("bytes", sw.bytes).Dur("took", time.Since(start)).Msg("request")
		}()
		next.ServeHTTP(sw, r)
	})
}

// safePath hides the token of a customer link path.
func safePath(p string) string {
	if strings.HasPrefix(p, "/c/") {
		return "/c/…"
	}
	return p
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// securityHeaders are sent on every answer. no-referrer matters most: a
// customer page's URL is a credential and must not leak to other sites.
// The pages may connect only to this origin (and the public URL's
// WebSocket origin, when the page is reached by another name), never
// to any other host; no <base> may redirect relative URLs, and forms
// post only here. Images may also be blob: URLs, which only the page
// itself makes (the customer's photo shown before it is sent).
func securityHeaders(publicURL string, next http.Handler) http.Handler {
	csp := "default-src 'self'; connect-src 'self'" + wsOrigin(publicURL) +
		"; img-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", csp)
		next.ServeHTTP(w, r)
	})
}

// wsOrigin is " ws://host" (or wss for https) of the public URL, or ""
// when there is none.
func wsOrigin(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return ""
	}
	switch u.Scheme {
	case "https":
		return " wss://" + u.Host
	case "http":
		return " ws://" + u.Host
	}
	return ""
}

type ctxKey int

const agentKey ctxKey = iota

func withAgentCtx(ctx context.Context, v any) context.Context {
	return context.WithValue(ctx, agentKey, v)
}
