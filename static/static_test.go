package static

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// importRe finds static imports and re-exports ("import {a} from './x.js'",
// minified or not) and dynamic ones ("import('./x.js')").
// A word "import" inside a string ("import","remerge") is not one, and a
// dynamic import of a computed URL (PDF.js loading a cross-origin worker,
// which the pages never use) has no specifier to check.
var importRe = regexp.MustCompile(`(?:^|[^\w."'$])(?:import|export)\s*(?:[\w*{}\s,$]+?\s*from\s*|\(\s*)?["']([^"']+)["']`)

// TestModulesResolve: every ES module imports by relative path (browsers
// load them with no import map or bundler), and every import is embedded.
func TestModulesResolve(t *testing.T) {
	n, imports := 0, 0
	for name, a := range assets {
		if path.Ext(name) != ".js" {
			continue
		}
		n++
		for _, m := range importRe.FindAllStringSubmatch(string(a.body), -1) {
			imports++
			spec := m[1]
			if strings.Contains(spec, "${") {
				continue
			}
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q: a bare or absolute specifier", name, spec)
				continue
			}
			if _, ok := assets[path.Join(path.Dir(name), spec)]; !ok {
				t.Errorf("%s imports %q, which is not embedded", name, spec)
			}
		}
	}
	if n < 10 || imports < 25 {
		t.Fatalf("only %d modules embedded, %d imports found", n, imports)
	}
}

var (
	assetRe  = regexp.MustCompile(`(?:src|href)="(/[^"]*)"`)
	inlineRe = regexp.MustCompile(`(?i)<script(?:\s+type="module")?\s*>|<style|\son[a-z]+=|style="`)
)

// TestPagesKeepCSP: the pages load only embedded files, with no inline
// script, style or event handler (the Content-Security-Policy refuses
// them), and the code never writes HTML strings or evaluates code.
func TestPagesKeepCSP(t *testing.T) {
	for _, page := range []string{"index.html", "customer.html"} {
		body := string(assets[page].body)
		if inlineRe.MatchString(body) {
			t.Errorf("%s has inline script, style or handler: %q", page, inlineRe.FindString(body))
		}
		for _, m := range assetRe.FindAllStringSubmatch(body, -1) {
			if _, ok := assets[strings.TrimPrefix(m[1], "/")]; !ok {
				t.Errorf("%s refers to %s, which is not embedded", page, m[1])
			}
		}
	}
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write|\beval\(|new Function|setAttribute\(\s*["']style`)
	// The sources, not what is served: a bundle holds Preact's own code.
	err := fs.WalkDir(files, "js", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := files.ReadFile(name)
		if banned.Match(src) {
			t.Errorf("%s uses %q", name, banned.Find(src))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServing: content types, revalidation, and the console at "/".
func TestServing(t *testing.T) {
	h := Handler()
	get := func(p string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", p, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for p, want := range map[string]string{
		"/": "text/html; charset=utf-8", "/js/console.js": "text/javascript; charset=utf-8",
		"/vendor/preact.js": "text/javascript; charset=utf-8", "/css/base.css": "text/css; charset=utf-8",
		"/favicon.svg": "image/svg+xml", "/vendor/LICENSE.preact": "text/plain; charset=utf-8",
	} {
		w := get(p)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != want {
			t.Errorf("GET %s: %d %q, want 200 %q", p, w.Code, w.Header().Get("Content-Type"), want)
		}
	}
	w := get("/js/live.js")
	if etag := w.Header().Get("ETag"); etag == "" || get("/js/live.js", "If-None-Match", etag).Code != http.StatusNotModified {
		t.Errorf("no revalidation: ETag %q", etag)
	}
	for _, p := range []string{"/nope.js", "/vendor/revendor.sh", "/static.go", "/js/"} {
		if c := get(p).Code; c != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, c)
		}
	}
}

// TestModulesAreMinified: our modules and styles are served smaller than
// they are written, the vendored ones as they came, and the customer's
// page as one bundle that loads only its lazy parts (PDF.js, the
// signature pad) on its own; each page has one style sheet.
func TestModulesAreMinified(t *testing.T) {
	size := func(name string) int {
		src, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return len(src)
	}
	for _, name := range []string{"js/console/room.js", "css/base.css", "vendor/preact.js"} {
		served, written := len(assets[name].body), size(name)
		if strings.HasPrefix(name, "vendor/") && served != written {
			t.Errorf("%s: served %d bytes of %d: a vendored file was changed", name, served, written)
		}
		if !strings.HasPrefix(name, "vendor/") && served*10 > written*9 {
			t.Errorf("%s: served %d bytes of %d written: not minified", name, served, written)
		}
	}
	parts := 0
	for _, name := range []string{"js/customer.js", "js/ui.js", "js/api.js", "js/live.js", "js/tasks.js", "js/words.js", "js/forms.js",
		"vendor/preact.js", "vendor/hooks.js", "vendor/signals.js", "vendor/signals-core.js", "vendor/htm.js"} {
		parts += size(name)
	}
	b := assets["js/customer.js"].body
	var imports []string
	for _, m := range importRe.FindAllStringSubmatch(string(b), -1) {
		imports = append(imports, m[1])
	}
	if strings.Join(imports, " ") != "../vendor/pdf.js ../vendor/signature_pad.js" {
		t.Errorf("the customer's bundle imports %v; want only its lazy parts", imports)
	}
	if len(b)*10 > parts*8 {
		t.Errorf("the customer's bundle is %d bytes, its parts %d: not minified", len(b), parts)
	}
	// Each page's style is one file, its base inside.
	for _, name := range []string{"css/customer.css", "css/console.css"} {
		css := assets[name].body
		if bytes.Contains(css, []byte("@import")) || len(css)*10 > (size(name)+size("css/base.css"))*9 {
			t.Errorf("%s is served as %d bytes: not one minified file with its base", name, len(css))
		}
	}
}

// TestCustomerPageZooms: the customer's page lets a phone pinch-zoom (a
// signer reads small print that way).
func TestCustomerPageZooms(t *testing.T) {
	m := regexp.MustCompile(`<meta name="viewport" content="([^"]*)"`).FindStringSubmatch(string(assets["customer.html"].body))
	if m == nil {
		t.Fatal("customer.html has no viewport meta")
	}
	if strings.Contains(m[1], "user-scalable=no") || strings.Contains(m[1], "maximum-scale") {
		t.Fatalf("the viewport forbids zooming: %q", m[1])
	}
}
