package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohub/cohub/api"

	"github.com/cohub/cohub/internal/hostile"
	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/rooms"
)

// Tests of what a stranger, or a customer with a link, can make a node
// spend: each request that is refused is refused before its body costs
// memory, and what is accepted is bounded.

var allocated = hostile.Allocated

func wantAllocUnder(t *testing.T, what string, got, limit uint64) {
	t.Helper()
	if got > limit {
		t.Fatalf("%s allocated %d MiB; at most %d MiB expected", what, got>>20, limit>>20)
	}
}

// A drawn signature is decoded only for a customer who may sign now,
// and only within its memory budget (a 4000×2000 16-bit PNG decodes to
// 64 MB).
func TestRefusedSignDecodesNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s, task, link := e.taskSession(map[string]any{"kind": "sign", "title": "Sign the offer"})
		sign := "/api/customer/tasks/" + task.ID + "/sign"
		body := map[string]string{"name": "Cara", "image": "data:image/png;base64," + base64.StdEncoding.EncodeToString(hostile.PNG16(4000, 2000))}
		raw := encodeBody(body).(*bytes.Reader)
		payload, _ := io.ReadAll(raw)

		got := allocated(func() { e.do("POST", sign, "Link garbage", payload).wantError(401, "unauthenticated") })
		wantAllocUnder(t, "a sign with a forged link", got, 4<<20)
		got = allocated(func() {
			e.do("POST", "/api/customer/tasks/k_x/sign", "Link "+link, payload).wantError(404, "not_found")
		})
		wantAllocUnder(t, "a sign of no such task", got, 4<<20)

		e.do("POST", "/api/sessions/"+s.ID+"/tasks/"+task.ID+"/document", "alex", fileUpload(t, "offer.pdf", pdfsign.Sample("Offer", 1))).want(200)
		got = allocated(func() { e.do("POST", sign, "Link "+link, payload).wantField("image") })
		wantAllocUnder(t, "a signature over its memory budget", got, 8<<20)
		if s := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); s.Tasks[0].Status != rooms.TaskPending {
			t.Fatalf("a refused signature completed the task: %+v", s.Tasks[0])
		}
	})
}

// An upload is read only for a customer who may upload to that task
// now (gates passed, the task pending), and an image is decoded only
// within the memory budget (7000×7000 at 16 bits is 392 MB).
func TestRefusedUploadDecodesNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		bomb := fileUpload(t, "id.png", hostile.PNG16(7000, 7000))
		s, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo of your ID"})
		got := allocated(func() {
			e.do("POST", "/api/customer/tasks/k_bogus/upload", "Link "+link, bomb).wantError(404, "not_found")
		})
		wantAllocUnder(t, "an upload to no such task", got, 2<<20)
		got = allocated(func() {
			e.do("POST", "/api/customer/tasks/"+task.ID+"/upload", "Link "+link, bomb).wantError(415, "unsupported_type")
		})
		wantAllocUnder(t, "an image over the memory budget", got, 8<<20)
		// A PIN-gated link whose PIN was never given.
		e.gate("pin", false)
		_, pinLink := e.pinSession("pin@example.com", "246810")
		got = allocated(func() {
			e.do("POST", "/api/customer/tasks/k_bogus/upload", "Link "+pinLink, bomb).wantError(403, "forbidden")
		})
		wantAllocUnder(t, "an upload past a gate not passed", got, 2<<20)
		if s := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); s.Tasks[0].Status != rooms.TaskPending {
			t.Fatalf("a refused upload completed the task: %+v", s.Tasks[0])
		}
	})
}

// A 10 MiB file whose first bytes show a type Cohub does not take is
// refused without reading the rest; so is an agent's document for a
// task they may not touch.
func TestRefusedFileIsNotRead(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo of your ID"})
		text := fileUpload(t, "notes.txt", bytes.Repeat([]byte("not a photo "), rooms.DefaultMaxUpload/12))
		got := allocated(func() {
			e.do("POST", "/api/customer/tasks/"+task.ID+"/upload", "Link "+link, text).wantError(415, "unsupported_type")
		})
		wantAllocUnder(t, "a 10 MiB file of a refused type", got, 2<<20)

		pdf := fileUpload(t, "offer.pdf", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{'x'}, rooms.DefaultMaxUpload-64)...))
		got = allocated(func() {
			e.do("POST", "/api/sessions/"+s.ID+"/tasks/k_bogus/document", "riley", pdf).wantError(404, "not_found")
		})
		wantAllocUnder(t, "another team's document", got, 2<<20)
	})
}

// slowBody is a request body the test feeds by hand. With "Expect:
// 100-continue" the client sends none of it until the server starts
// reading, so the first write returning shows the server has taken the
// upload on.
type slowBody struct {
	r  *io.PipeReader
	w  *io.PipeWriter
	up *upload
}

func newSlowBody(up *upload) *slowBody {
	r, w := io.Pipe()
	return &slowBody{r: r, w: w, up: up}
}

// patientClient waits for the server's 100 Continue however long it
// takes: the request body is sent only once the server reads it.
var patientClient = &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}

// start sends the request in the background and returns its answer's
// channel once the server has begun reading the body.
func (b *slowBody) start(t *testing.T, ctx context.Context, url, auth string) <-chan *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "POST", url, b.r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", b.up.contentType)
	req.Header.Set("Expect", "100-continue")
	answer := make(chan *http.Response, 1)
	go func() {
		res, err := patientClient.Do(req)
		if err != nil {
			res = &http.Response{StatusCode: -1, Status: err.Error(), Body: http.NoBody}
		}
		answer <- res
	}()
	if _, err := b.w.Write(b.up.body[:100]); err != nil {
		t.Fatalf("the server never read the body: %v", err)
	}
	return answer
}

func (b *slowBody) finish() {
	_, _ = b.w.Write(b.up.body[100:])
	_ = b.w.Close()
}

func answerOf(t *testing.T, ch <-chan *http.Response) *resp {
	t.Helper()
	res := <-ch
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &resp{t: t, status: res.StatusCode, header: res.Header, body: body}
}

// One customer session has at most two uploads under way; a third is
// refused at once instead of holding another connection.
func TestUploadsAtOnceArePerLink(t *testing.T) {
	e := newEnv(t, "memory")
	_, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo of your ID"})
	url, auth := e.srv.URL+"/api/customer/tasks/"+task.ID+"/upload", "Link "+link
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var held []*slowBody
	var answers []<-chan *http.Response
	for range api.UploadsAtOnce {
		b := newSlowBody(fileUpload(t, "id.png", pngImage(t, 400, 300)))
		answers = append(answers, b.start(t, ctx, url, auth))
		held = append(held, b)
	}
	third := newSlowBody(fileUpload(t, "id.png", pngImage(t, 400, 300)))
	req, _ := http.NewRequestWithContext(ctx, "POST", url, third.r)
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", third.up.contentType)
	res, err := e.client(http.DefaultClient).Do(req)
	if err != nil {
		t.Fatalf("a third upload was held instead of refused: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || !res.Close {
		t.Fatalf("third upload: %d (close %v), want 429 and the connection closed", res.StatusCode, res.Close)
	}
	// The first finishes (and completes the task); the second is then
	// refused for the task's state, not held.
	held[0].finish()
	answerOf(t, answers[0]).want(200)
	held[1].finish()
	answerOf(t, answers[1]).wantError(409, "invalid_state")
}

// An upload that sends nothing for the idle time is ended: a trickle
// cannot hold a connection for the whole upload time.
func TestIdleUploadIsEnded(t *testing.T) {
	e := newEnv(t, "memory")
	e.uploadIdle = 200 * time.Millisecond
	e.start()
	e.tokens["alex"] = e.login("alex@cohub.test", testPassword)
	_, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo of your ID"})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	b := newSlowBody(fileUpload(t, "id.png", pngImage(t, 400, 300)))
	// The body stops after its first bytes and never ends.
	r := answerOf(t, b.start(t, ctx, e.srv.URL+"/api/customer/tasks/"+task.ID+"/upload", "Link "+link))
	r.wantError(400, "malformed_upload")
}

// A gated link whose gates this browser has not passed cannot start an
// upload at all: it is refused before the body is read.
func TestUploadPastClosedGateIsRefusedAtOnce(t *testing.T) {
	e := newEnv(t, "memory")
	e.gate("pin", false)
	s, link := e.pinSession("gate@example.com", "246810")
	var task rooms.Task
	e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "upload", "title": "Photo"}).want(201).into(&task)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	body, feed := io.Pipe()
	defer feed.Close()
	up := fileUpload(t, "id.png", pngImage(t, 40, 40))
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/api/customer/tasks/"+task.ID+"/upload", body)
	req.Header.Set("Authorization", "Link "+link)
	req.Header.Set("Content-Type", up.contentType)
	go func() { _, _ = feed.Write(up.body[:100]) }() // and then nothing
	res, err := e.client(http.DefaultClient).Do(req)
	if err != nil {
		t.Fatalf("the upload was held: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("status %d, want 403", res.StatusCode)
	}
}

// The login limit counts each try before its password is checked: a
// burst of tries in parallel gets no more checks than the limit, and
// the right password hidden in a burst does not get in.
func TestLoginLimitHoldsInParallel(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		statuses := func(n, right int) []int {
			out := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					pw := fmt.Sprint("wrong-", i)
					if i == right {
						pw = testPassword
					}
					body := strings.NewReader(fmt.Sprintf(`{"email":"blake@cohub.test","password":%q}`, pw))
					res, err := e.client(http.DefaultClient).Post(e.srv.URL+"/api/login", "application/json", body)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					out[i] = res.StatusCode
				})
			}
			wg.Wait()
			return out
		}
		checked := 0
		for _, st := range statuses(100, -1) {
			if st == 401 {
				checked++
			}
		}
		if checked > 10 {
			t.Fatalf("%d of 100 parallel wrong passwords were checked; at most 10 may be", checked)
		}
		if got := statuses(300, 250)[250]; got == 200 {
			t.Fatal("the right password, hidden in a burst of wrong ones, signed in")
		}
	})
}

// Every decode slot taken past the wait is a 503 busy with Retry-After.
func TestBusyIsRetryable(t *testing.T) {
	w := httptest.NewRecorder()
	api.WriteError(w, httptest.NewRequest("POST", "/api/customer/tasks/k/upload", nil), fmt.Errorf("%w: many files", rooms.ErrBusy))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"busy"`) {
		t.Fatalf("busy answered %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if !errors.Is(fmt.Errorf("x: %w", rooms.ErrBusy), rooms.ErrBusy) {
		t.Fatal("ErrBusy does not unwrap")
	}
}

// What a refused upload and a refused signature cost the server: the
// request's own bytes and nothing decoded.
func BenchmarkRefusedUpload(b *testing.B) {
	e := newEnv(b, "memory")
	e.gate("pin", false)
	_, pinLink := e.pinSession("bench@example.com", "246810")
	up := fileUpload(b, "id.png", hostile.PNG16(7000, 7000))
	h := e.api.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/customer/tasks/k_bogus/upload", bytes.NewReader(up.body))
		req.Header.Set("Authorization", "Link "+pinLink)
		req.Header.Set("Content-Type", up.contentType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 403 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func BenchmarkRefusedSign(b *testing.B) {
	e := newEnv(b, "memory")
	payload := []byte(`{"name":"Cara","image":"` + base64.StdEncoding.EncodeToString(hostile.PNG16(4000, 2000)) + `"}`)
	h := e.api.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/customer/tasks/k_x/sign", bytes.NewReader(payload))
		req.Header.Set("Authorization", "Link garbage")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 401 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
