package api

import (
	"context"
	"net/http"
	"regexp"
	"strconv"

	"github.com/cohub/cohub/i18n"
)

// customerWords marks a request made with a customer's link: its errors
// are told in the customer's language (the session's, else the team's,
// else the browser's), looked up only when there is an error to tell.
func (s *Server) customerWords(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		link := linkToken(r)
		if link == "" {
			next.ServeHTTP(w, r)
			return
		}
		lang := func(ctx context.Context) string {
			return s.gates.CustomerLanguage(ctx, link, r.Header.Get("Accept-Language"))
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, lang)))
	})
}

type langKey struct{}

var triesLeft = regexp.MustCompile(`(\d+) tries left`)

// customerMessage is an error's message in the language of the customer
// who made the request; "" for a request without a customer's link, or
// a code the catalogs do not word.
func customerMessage(r *http.Request, code, text string) string {
	lang, ok := r.Context().Value(langKey{}).(func(context.Context) string)
	if !ok {
		return ""
	}
	key := "error." + code
	if m := triesLeft.FindStringSubmatch(text); m != nil && code == "unauthenticated" {
		n, _ := strconv.Atoi(m[1])
		key += ".tries.other"
		if n == 1 {
			key = "error.unauthenticated.tries.one"
		}
		return i18n.T(lang(r.Context()), key, "n", m[1])
	}
	if i18n.T(i18n.Default, key) == key {
		return ""
	}
	return i18n.T(lang(r.Context()), key)
}
