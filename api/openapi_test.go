package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/cohub/cohub/api"
	"github.com/cohub/cohub/internal/errcode"
)

// contract is api/openapi.json loaded once, checked as a document, with
// a router that finds each request's operation.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	err    error
}

var (
	contractOnce sync.Once
	theContract  contract
)

func loadContract(t testing.TB) *contract {
	t.Helper()
	contractOnce.Do(func() {
		c := &theContract
		loader := openapi3.NewLoader()
		if c.doc, c.err = loader.LoadFromData(api.OpenAPI()); c.err != nil {
			return
		}
		if c.err = c.doc.Validate(loader.Context); c.err != nil {
			return
		}
		// The document's server is "/", relative to wherever it is served;
		// the tests' servers listen on ports of their own.
		c.doc.Servers = nil
		c.router, c.err = gorillamux.NewRouter(c.doc)
	})
	if theContract.err != nil {
		t.Fatalf("api/openapi.json: %v", theContract.err)
	}
	return &theContract
}

// validating is the API tests' HTTP transport: every answer under /api
// must match its operation in the contract (a documented status, its
// content type, its body's schema), and a request the server accepted
// (2xx) must be one the contract allows. A mismatch fails the test that
// made the request.
type validating struct {
	e    *env
	next http.RoundTripper
}

func (v validating) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := v.next.RoundTrip(req)
	if err != nil || !isAPI(req.URL.Path) || req.Method == http.MethodHead {
		return res, err
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(got))
	if err != nil {
		return res, nil // the test reading it sees the same cut
	}
	body, known := sentBody(req, res.StatusCode)
	if problem := checkExchange(loadContract(v.e.t), req, body, known, res, got); problem != "" {
		v.e.t.Errorf("contract (api/openapi.json): %s %s → %d: %s\n%s", req.Method, req.URL.RequestURI(), res.StatusCode, problem, clip(got))
	}
	return res, nil
}

// sentBody is a copy of the request's body for its own check (only an
// accepted request's is checked), when one can be had again (bytes and
// strings); a streamed body is not kept, and known is false.
func sentBody(req *http.Request, status int) (body []byte, known bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, true
	}
	if status/100 != 2 || req.GetBody == nil {
		return nil, false
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	body, err = io.ReadAll(rc)
	return body, err == nil
}

func isAPI(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// checkExchange says what in a request and its answer the contract does
// not allow, or "".
// bodyKnown says whether reqBody is the request's body (a streamed one
// is not kept: its check is left out).
func checkExchange(c *contract, req *http.Request, reqBody []byte, bodyKnown bool, res *http.Response, resBody []byte) string {
	probe := req.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	if len(reqBody) > 0 && probe.Header.Get("Content-Type") == "" {
		// The server reads a body without a type as JSON.
		probe.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(probe)
	if err != nil {
		// No operation: only the fallback's 404 and 405 answer here, in
		// the one error shape.
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			return "no operation in the contract answers this"
		}
		return checkErrorShape(c, res, resBody)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true, SkipSettingDefaults: true, MultiError: true}
	reqOpts := *opts
	reqOpts.ExcludeRequestBody = !bodyKnown
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: &reqOpts}
	if res.StatusCode/100 == 2 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return "the server took a request the contract refuses: " + err.Error()
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(resBody)), Options: opts,
	})
	if err != nil {
		return err.Error()
	}
	return ""
}

func checkErrorShape(c *contract, res *http.Response, body []byte) string {
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "an error answered as " + ct
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err.Error()
	}
	if err := c.doc.Components.Schemas["Error"].Value.VisitJSON(v); err != nil {
		return "not the error shape: " + err.Error()
	}
	return ""
}

func clip(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// client is an HTTP client whose answers are held to the contract.
func (e *env) client(base *http.Client) *http.Client {
	c := *base
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = validating{e: e, next: next}
	return &c
}

// TestOpenAPIDocument: the contract is a valid OpenAPI 3.0 document, it is
// served as it is, and its error codes are internal/errcode's HTTP codes.
func TestOpenAPIDocument(t *testing.T) {
	c := loadContract(t)
	e := newEnv(t, "memory")
	r := e.do("GET", "/api/openapi.json", "", nil).want(200)
	if !bytes.Equal(r.body, api.OpenAPI()) || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json is not the document: %s", r.header.Get("Content-Type"))
	}
	var want []string
	for _, row := range errcode.Table {
		if row.Status != 0 && !slices.Contains(want, row.Code) {
			want = append(want, row.Code)
		}
	}
	var got []string
	for _, v := range c.doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value.Enum {
		got = append(got, v.(string))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the contract's error codes %v, internal/errcode's HTTP codes %v", got, want)
	}
}

// TestOpenAPICoversEveryRoute: each method of each /api route of the
// router has an operation in the contract, and each operation a route.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	c := loadContract(t)
	e := newEnv(t, "memory")
	routes := map[string]bool{}
	for _, r := range apiRoutes(t, e) {
		routes[r] = true
		m, tpl, _ := strings.Cut(r, " ")
		if item := c.doc.Paths.Value(tpl); item == nil || item.GetOperation(m) == nil {
			t.Errorf("%s %s has no operation in api/openapi.json", m, tpl)
		}
	}
	if len(routes) < 40 {
		t.Fatalf("walked %d routes", len(routes))
	}
	for path, item := range c.doc.Paths.Map() {
		for m := range item.Operations() {
			if !routes[m+" "+path] {
				t.Errorf("api/openapi.json documents %s %s, which no route serves", m, path)
			}
		}
	}
}

// TestContractCatchesMismatch: the validator is not a yes-man. An answer
// whose body breaks its schema, and a status the operation does not
// document, are both reported.
func TestContractCatchesMismatch(t *testing.T) {
	c := loadContract(t)
	req, _ := http.NewRequest("GET", "http://cohub.test/api/me", nil)
	answer := func(status int, body string) string {
		res := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}}
		return checkExchange(c, req, nil, true, res, []byte(body))
	}
	if p := answer(200, `{"id":"a_1","email":"x@y.z","name":"X","role":"agent","team_id":"","disabled":false,`+
		`"settings_teams":[],"sms_enabled":true,"invitation_mode":"builtin","history_search_space":"team","phone_default_region":"US"}`); p != "" {
		t.Fatalf("a right answer is refused: %s", p)
	}
	if answer(200, `{"id":"a_1","role":"wizard"}`) == "" {
		t.Error("an answer that breaks its schema passes")
	}
	if answer(418, `{"error":{"code":"internal","message":"x"}}`) == "" {
		t.Error("an undocumented status passes")
	}
	if answer(401, `{"error":{"code":"no_such_code","message":"x"}}`) == "" {
		t.Error("an error code outside the table passes")
	}
}
