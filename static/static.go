// Package static is the browser side: the agent console and the customer
// page (ES modules over vendored Preact and htm), embedded in the binary.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed index.html customer.html favicon.svg css js vendor/*.js vendor/LICENSE.* vendor/VERSIONS
var files embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	etag  string
	ctype string
}

// contentTypes are set explicitly, so a machine's mime tables never
// change how a module script is served (browsers refuse a module that
// is not JavaScript).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

var assets = load()

func load() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		if b, err = minify(p, b); err != nil {
			return err
		}
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			ctype = "text/plain; charset=utf-8"
		}
		out[p] = asset{body: b, etag: etagOf(b), ctype: ctype}
		return nil
	})
	if err != nil {
		panic("static: " + err.Error())
	}
	return out
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}

// Handler serves the embedded files; "/" is the agent console. Files are
// not fingerprinted, so browsers revalidate them (ETag) on every load.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, name, a, "no-cache")
	})
}

// ServeFile answers with one embedded file, whatever the request path.
func ServeFile(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	serve(w, r, name, a, "no-store")
}

func serve(w http.ResponseWriter, r *http.Request, name string, a asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
