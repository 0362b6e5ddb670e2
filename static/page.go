package static

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/cohub/cohub/i18n"
)

// CustomerPage answers with the customer's page in lang: its <html>
// lang and dir, its title and first words, and its catalog as a JSON
// block the page reads as it starts, so the first paint is in the
// customer's language without a request more.
func CustomerPage(w http.ResponseWriter, r *http.Request, lang string) {
	words := i18n.Page(lang)
	// json.Marshal escapes <, > and &: the block cannot close its script.
	block, err := json.Marshal(words)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	t := func(key string) string { return html.EscapeString(words.Catalog[key]) }
	page := strings.NewReplacer(
		"{{lang}}", words.Lang, "{{dir}}", words.Dir, "{{title}}", t("page.title"),
		"{{opening}}", t("page.opening"), "{{noscript}}", t("page.noscript"), "{{words}}", string(block),
	).Replace(string(assets["customer.html"].body))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "customer.html", time.Time{}, bytes.NewReader([]byte(page)))
}

// Catalog answers with one language's page words (i18n.Page), for a
// customer who switches language on the page. Catalogs change only with
// a release, so browsers keep them an hour and revalidate by ETag.
func Catalog(w http.ResponseWriter, r *http.Request, lang string) bool {
	if !i18n.Known(lang) {
		return false
	}
	b, err := json.Marshal(i18n.Page(lang))
	if err != nil {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", etagOf(b))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	return true
}
