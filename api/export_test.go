package api

// What the external tests (package api_test) need of the edge's insides.

const UploadsAtOnce = uploadsAtOnce

var (
	WriteError = writeError
	RequireAll = requireAll
	WSOrigin   = wsOrigin
)
