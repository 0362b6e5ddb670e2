// Package static is the browser side: the agent console and the customer
// page, embedded in the binary.
package static

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed *.html *.css *.js
var files embed.FS

// Handler serves the embedded files; "/" is the agent console.
func Handler() http.Handler {
	return http.FileServer(http.FS(files))
}

// ServeFile answers with one embedded file, whatever the request path.
func ServeFile(w http.ResponseWriter, r *http.Request, name string) {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
