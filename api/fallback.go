package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// apiFallback answers the requests no route of api took: 405 (with Allow)
// when a route has the path under another method, else 404.
//
// gorilla/mux's own method-mismatch detection does not survive a
// subrouter: every route of it carries the /api prefix matcher, and a
// later route whose prefix matches clears the mismatch an earlier one
// noted (v1.8.1), so DELETE /api/me would be a 404. Hence the path is
// matched again here, route by route, under each route's own methods.
func apiFallback(api *mux.Router, notFound, notAllowed http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowed := allowedMethods(api, r)
		if len(allowed) == 0 {
			notFound.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		notAllowed.ServeHTTP(w, r)
	})
}

// allowedMethods lists the methods under which some route of api
// matches r's path.
func allowedMethods(api *mux.Router, r *http.Request) []string {
	var allowed []string
	_ = api.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a route for any method would have matched r
		}
		for _, m := range methods {
			alt := r.WithContext(r.Context()) // a shallow copy
			alt.Method = m
			if route.Match(alt, &mux.RouteMatch{}) {
				allowed = append(allowed, m)
			}
		}
		return nil
	})
	return allowed
}
