package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the contract of every /api route as an OpenAPI 3.0
// document, kept beside the routes and served as it is: the API tests
// validate every answer they get against it, and a route missing from it
// fails them.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the document GET /api/openapi.json serves.
func OpenAPI() []byte { return openAPI }

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPI)
}
