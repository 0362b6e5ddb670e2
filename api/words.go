package api

import (
	"context"
	"net/http"
	"regexp"
	"strconv"

	"github.com/cohub/cohub/i18n"
	"github.com/cohub/cohub/internal/errcode"
	"github.com/cohub/cohub/rooms"
)

// languages serves what the customer reads in their language: their
// page, its words when they switch, their choice, their errors.
type languages struct {
	gates *rooms.GateService
}

// customerWords marks a request made with a customer's link: its errors
// are told in the customer's language (the session's, else the team's,
// else the browser's), looked up only when there is an error to tell.
func (l languages) customerWords(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		link := linkToken(r)
		if link == "" {
			next.ServeHTTP(w, r)
			return
		}
		lang := func(ctx context.Context) string {
			return l.gates.CustomerLanguage(ctx, link, r.Header.Get("Accept-Language"))
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, lang)))
	})
}

type langKey struct{}

var triesLeft = regexp.MustCompile(`(\d+) tries left`)

// customerMessage is an error's message in the language of the customer
// who made the request; "" for a request without a customer's link, or
// a code the catalogs do not word. A reason of its own that the catalogs
// do not word (which limit refused, until when) is kept after the
// customer's words for the code, as it is: English.
func customerMessage(r *http.Request, e errcode.Entry, text string) string {
	langOf, ok := r.Context().Value(langKey{}).(func(context.Context) string)
	key := "error." + e.Code
	if !ok || i18n.T(i18n.Default, key) == key {
		return ""
	}
	lang := langOf(r.Context())
	if m := triesLeft.FindStringSubmatch(text); m != nil && e.Code == "unauthenticated" {
		n, _ := strconv.Atoi(m[1])
		form := ".other"
		if n == 1 {
			form = ".one"
		}
		return i18n.T(lang, key+".tries"+form, "n", m[1])
	}
	switch {
	case text == e.Message:
		return i18n.T(lang, key)
	case lang == i18n.Default:
		return text
	}
	return i18n.T(lang, key) + " (" + text + ")"
}
