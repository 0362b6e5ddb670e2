package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cohub/cohub/api"
)

// TestAPIRouteErrors: under /api/ every answer is the JSON error shape. A
// path no route has is 404 not_found whatever the method; a known path
// asked with a method it does not take is 405 method_not_allowed.
func TestAPIRouteErrors(t *testing.T) {
	e := newEnv(t, "memory")
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/nope", 404, "not_found"},
		{"POST", "/api/nope", 404, "not_found"},
		{"PUT", "/api/nope", 404, "not_found"},
		{"DELETE", "/api/nope", 404, "not_found"},
		{"PATCH", "/api/nope", 404, "not_found"},
		{"OPTIONS", "/api/nope", 404, "not_found"},
		{"GET", "/api", 404, "not_found"},
		{"GET", "/api/", 404, "not_found"},
		{"GET", "/api/index.html", 404, "not_found"},
		{"POST", "/api/me/extra", 404, "not_found"},
		{"GET", "/api/sessions/s_1/nope", 404, "not_found"},
		{"DELETE", "/api/sessions/s_1/tasks", 405, "method_not_allowed"},
		{"DELETE", "/api/me", 405, "method_not_allowed"},
		{"PUT", "/api/sessions", 405, "method_not_allowed"},
		{"PATCH", "/api/settings", 405, "method_not_allowed"},
		{"GET", "/api/login", 405, "method_not_allowed"},
		{"POST", "/api/teams/t_1", 405, "method_not_allowed"},
		{"DELETE", "/api/sessions/s_1", 405, "method_not_allowed"},
		{"GET", "/api/sessions/s_1/tasks/k_1", 405, "method_not_allowed"},
		{"GET", "/api/customer/otp", 405, "method_not_allowed"},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, "admin", nil)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s %s: %d %q, want %d %q: %s", c.method, c.path, r.status, r.code(), c.status, c.code, r.body)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: Content-Type %q, want JSON", c.method, c.path, ct)
		}
	}
	// A 405 says which methods the path takes.
	if got := e.do("POST", "/api/teams/t_1", "admin", nil).header.Get("Allow"); got != "GET, PUT" {
		t.Errorf("POST /api/teams/t_1: Allow %q, want \"GET, PUT\"", got)
	}
	// Outside /api the pages are still served as files.
	if r := e.do("GET", "/css/base.css", "", nil).want(200); !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("GET /css/base.css: Content-Type %q", r.header.Get("Content-Type"))
	}
}

// The pages may connect only to their own origin and the public URL's
// WebSocket origin; no <base> or foreign form target.
func TestContentSecurityPolicy(t *testing.T) {
	e := newEnv(t, "memory")
	csp := e.do("GET", "/", "", nil).want(200).header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "connect-src 'self' ws://cohub.test;", "img-src 'self' blob:;", "base-uri 'none'",
		"form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"ws: ", "wss:;", "unsafe-inline", "unsafe-eval", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q allows %q", csp, bad)
		}
	}
	if got := api.WSOrigin("https://cohub.example.com:8443/base"); got != " wss://cohub.example.com:8443" {
		t.Errorf("api.WSOrigin(https) = %q", got)
	}
}

// The pages' modules and styles go gzip-compressed to a browser that asks,
// as they are to one that does not; the API's JSON and files are left
// alone.
func TestPagesAreCompressed(t *testing.T) {
	e := newEnv(t, "memory")
	get := func(path, enc string) *http.Response {
		req, err := http.NewRequest("GET", e.srv.URL+path, nil)
		e.must(err)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		e.must(err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, path := range []string{"/js/customer.js", "/js/console/room.js", "/css/console.css"} {
		zipped := get(path, "gzip")
		body, err := io.ReadAll(zipped.Body)
		e.must(err)
		plain := get(path, "")
		raw, err := io.ReadAll(plain.Body)
		e.must(err)
		if zipped.Header.Get("Content-Encoding") != "gzip" || plain.Header.Get("Content-Encoding") != "" || len(body) >= len(raw) {
			t.Fatalf("%s: %q (%d bytes) and %q (%d bytes)", path, zipped.Header.Get("Content-Encoding"), len(body),
				plain.Header.Get("Content-Encoding"), len(raw))
		}
	}
	if r := get("/healthz", "gzip"); r.Header.Get("Content-Encoding") != "" {
		t.Fatal("health checks are compressed")
	}
}
