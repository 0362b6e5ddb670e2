package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/rooms"
)

// upload is a multipart body with one "file" part.
type upload struct {
	contentType string
	body        []byte
}

func fileUpload(t testing.TB, name string, data []byte) *upload {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &upload{contentType: mw.FormDataContentType(), body: b.Bytes()}
}

func pngImage(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, (x*7)%h, color.Black)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type taskReply struct {
	Task rooms.Task `json:"task"`
}

type assetList struct {
	Assets []rooms.Asset `json:"assets"`
}

// taskSession starts a session of alex's with one task and returns it,
// the task and the customer's link.
func (e *env) taskSession(task map[string]any) (*rooms.Session, rooms.Task, string) {
	e.t.Helper()
	e.n++
	email := fmt.Sprintf("asset%d@example.com", e.n)
	s := e.startSession("alex", email)
	var t rooms.Task
	e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", task).want(201).into(&t)
	return s, t, e.linkSentTo(email)
}

func (e *env) download(path, who string) *resp {
	e.t.Helper()
	return e.do("GET", path, who, nil)
}

func TestSignFlow(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s, task, link := e.taskSession(map[string]any{"kind": "sign", "title": "Sign the offer"})
		cust := "Link " + link
		// Signing before the agent attaches the document says so.
		e.do("POST", "/api/customer/tasks/"+task.ID+"/sign", cust, map[string]string{"name": "Cara"}).wantError(409, "invalid_state")

		orig := pdfsign.Sample("Loan offer", 2)
		var withDoc rooms.Task
		e.do("POST", "/api/sessions/"+s.ID+"/tasks/"+task.ID+"/document", "alex", fileUpload(t, "offer.pdf", orig)).want(200).into(&withDoc)
		if withDoc.DocumentID == "" {
			t.Fatalf("no document on the task: %+v", withDoc)
		}
		// The customer reads the document.
		r := e.download("/api/sessions/"+s.ID+"/assets/"+withDoc.DocumentID, cust).want(200)
		if !bytes.Equal(r.body, orig) || r.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("document: %d bytes, %s", len(r.body), r.header.Get("Content-Type"))
		}
		e.joinAsCustomer(s.ID)
		sig := "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngImage(t, 300, 100))
		var done taskReply
		e.do("POST", "/api/customer/tasks/"+task.ID+"/sign", cust, map[string]string{"name": "Cara Customer", "image": sig}).
			want(200).into(&done)
		if done.Task.Status != rooms.TaskCompleted || len(done.Task.Assets) != 1 {
			t.Fatalf("signed task %+v", done.Task)
		}
		// Signing twice is refused and keeps nothing more.
		e.do("POST", "/api/customer/tasks/"+task.ID+"/sign", cust, map[string]string{"name": "Cara"}).wantError(409, "invalid_state")

		var list assetList
		e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
		// The last task done, the session's completion certificate follows.
		if len(list.Assets) != 3 || list.Assets[0].Kind != rooms.AssetDocument || list.Assets[1].Kind != rooms.AssetSigned ||
			list.Assets[2].Kind != rooms.AssetCertificate {
			t.Fatalf("assets %+v", list.Assets)
		}
		signed := list.Assets[1]
		audit := signed.Audit
		sum := sha256.Sum256(orig)
		if audit == nil || audit.Signer != "Cara Customer" || audit.Method != "drawn" || audit.IP != "127.0.0.1" ||
			audit.OriginalSHA256 != hex.EncodeToString(sum[:]) || audit.Gates.Authentication != rooms.AuthNotRequired {
			t.Fatalf("audit %+v", audit)
		}
		r = e.download("/api/sessions/"+s.ID+"/assets/"+signed.ID, "alex").want(200)
		got := sha256.Sum256(r.body)
		if hex.EncodeToString(got[:]) != audit.SignedSHA256 || signed.SHA256 != audit.SignedSHA256 {
			t.Fatal("the signed copy's hash does not match its audit record")
		}
		if n, err := pdfsign.Check(r.body); err != nil || n != 2 {
			t.Fatalf("signed copy: %d pages, %v", n, err)
		}
		h := r.header
		if h.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") ||
			h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("download headers %v", h)
		}
		// One task.completed event, carrying the asset, and the session
		// is updated for its agent.
		var log struct{ Events []rooms.Event }
		e.do("GET", "/api/sessions/"+s.ID+"/events", "alex", nil).want(200).into(&log)
		completed := 0
		for _, ev := range log.Events {
			if ev.Type == rooms.EventTaskCompleted {
				completed++
				if len(ev.Assets) != 1 || ev.Assets[0] != signed.ID {
					t.Fatalf("task.completed assets %v", ev.Assets)
				}
			}
		}
		if completed != 1 {
			t.Fatalf("%d task.completed events", completed)
		}
		st, err := e.store.Session(t.Context(), s.ID)
		e.must(err)
		if !st.Updated {
			t.Fatal("signing did not mark the session updated")
		}
		// The customer lists the signed copy, without the audit's network
		// details, and the completion certificate.
		var mine assetList
		e.do("GET", "/api/customer/assets", cust, nil).want(200).into(&mine)
		if len(mine.Assets) != 3 || mine.Assets[1].Audit == nil || mine.Assets[1].Audit.IP != "" || mine.Assets[2].Kind != rooms.AssetCertificate {
			t.Fatalf("customer's assets %+v", mine.Assets)
		}
		// Another session's link cannot reach these files.
		_, _, other := e.taskSession(map[string]any{"kind": "custom", "title": "x"})
		e.download("/api/sessions/"+s.ID+"/assets/"+signed.ID, "Link "+other).wantError(404, "not_found")
	})
}

func TestFormFlow(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s, task, link := e.taskSession(map[string]any{"kind": "form", "title": "Your policy", "fields": []map[string]any{
			{"name": "policy", "label": "Policy number", "type": "text", "required": true, "pattern": "[A-Z]{2}-[0-9]{6}", "help": "Two letters, a dash, six digits"},
			{"name": "amount", "label": "Amount", "type": "number", "min": "1", "max": "5000"},
		}})
		cust := "Link " + link
		if len(task.Fields) != 2 || task.Fields[0].Pattern == "" {
			t.Fatalf("task fields %+v", task.Fields)
		}
		post := func(answers map[string]any) *resp {
			return e.do("POST", "/api/customer/tasks/"+task.ID+"/form", cust, map[string]any{"answers": answers})
		}
		post(map[string]any{"policy": "ab-12"}).wantField("answers.policy")
		post(map[string]any{"policy": "AB-123456", "amount": "9000"}).wantField("answers.amount")
		post(map[string]any{"policy": "AB-123456", "colour": "red"}).wantField("answers.colour")
		var list assetList
		e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
		if len(list.Assets) != 0 {
			t.Fatalf("refused answers kept %d assets", len(list.Assets))
		}
		var done taskReply
		post(map[string]any{"policy": "AB-123456", "amount": "250"}).want(200).into(&done)
		if !strings.Contains(string(done.Task.Result), `"policy":"AB-123456"`) || len(done.Task.Assets) != 1 {
			t.Fatalf("form result %s", done.Task.Result)
		}
		got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session()
		if !strings.Contains(string(got.Tasks[0].Result), "AB-123456") {
			t.Fatalf("the agent does not see the answers: %s", got.Tasks[0].Result)
		}
		r := e.download("/api/sessions/"+s.ID+"/assets/"+done.Task.Assets[0], "alex").want(200)
		if r.header.Get("Content-Type") != "application/json" || !strings.Contains(string(r.body), "AB-123456") {
			t.Fatalf("answers download %s: %s", r.header.Get("Content-Type"), r.body)
		}
	})
}

func TestConsentTask(t *testing.T) {
	e := newEnv(t, "memory")
	_, task, link := e.taskSession(map[string]any{"kind": "consent", "title": "Marketing", "text": "You may email me offers."})
	e.do("POST", "/api/customer/tasks/"+task.ID+"/consent", "Link "+link, map[string]any{}).wantField("agree")
	var done taskReply
	e.do("POST", "/api/customer/tasks/"+task.ID+"/consent", "Link "+link, map[string]bool{"agree": false}).want(200).into(&done)
	if done.Task.Status != rooms.TaskCompleted || string(done.Task.Result) != `{"agreed":false}` || done.Task.CompletedAt == nil {
		t.Fatalf("consent %+v", done.Task)
	}
}

// Bad files get a clear error and keep nothing: oversized, the wrong
// type by content whatever the name, a cut multipart body, a PDF that
// is not one.
func TestBadFiles(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		// Files on disk, so the test sees every blob stored.
		dir := t.TempDir() + "/blobs"
		b, err := blobs.Open(t.Context(), "file://"+dir)
		e.must(err)
		e.blobs = b
		e.start()
		s, sign, link := e.taskSession(map[string]any{"kind": "sign", "title": "Sign"})
		var up rooms.Task
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]any{"kind": "upload", "title": "Photo ID"}).want(201).into(&up)
		cust := "Link " + link
		doc := "/api/sessions/" + s.ID + "/tasks/" + sign.ID + "/document"
		upl := "/api/customer/tasks/" + up.ID + "/upload"
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0x4d}, 4000)...)
		fake := []byte("%PDF-1.7\n1 0 obj << >> endobj\n%%EOF")
		big := append(pngImage(t, 40, 40), bytes.Repeat([]byte{0}, rooms.DefaultMaxUpload)...)
		// A file's type is told from its first bytes before the rest is
		// read: an oversized document starts as a PDF to reach the size.
		bigPDF := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0}, rooms.DefaultMaxUpload)...)
		whole := fileUpload(t, "id.jpg", pngImage(t, 40, 40))
		cut := &upload{contentType: whole.contentType, body: whole.body[:len(whole.body)-60]}

		e.do("POST", doc, "alex", fileUpload(t, "offer.pdf", fake)).wantError(400, "invalid_document")
		e.do("POST", doc, "alex", fileUpload(t, "offer.pdf", []byte("hello"))).wantError(400, "invalid_document")
		e.do("POST", doc, "alex", fileUpload(t, "offer.pdf", bigPDF)).wantError(413, "file_too_large")
		e.do("POST", doc, "alex", map[string]string{"file": "x"}).wantError(400, "malformed_upload")
		e.do("POST", upl, cust, fileUpload(t, "passport.jpg", exe)).wantError(415, "unsupported_type")
		e.do("POST", upl, cust, fileUpload(t, "passport.pdf", fake)).wantError(400, "invalid_document")
		e.do("POST", upl, cust, fileUpload(t, "passport.png", big)).wantError(413, "file_too_large")
		e.do("POST", upl, cust, cut).wantError(400, "malformed_upload")
		e.do("POST", upl, cust, fileUpload(t, "empty.png", nil)).wantField("file")

		var list assetList
		e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
		got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session()
		if len(list.Assets) != 0 || got.Tasks[0].DocumentID != "" || got.Tasks[1].Status != rooms.TaskPending {
			t.Fatalf("bad files changed something: %d assets, tasks %+v", len(list.Assets), got.Tasks)
		}
		if n := countFiles(t, dir); n != 0 {
			t.Fatalf("bad files left %d files in the blob store", n)
		}
		// The same upload, whole, is kept: a PNG by its content, whatever its name.
		var done taskReply
		e.do("POST", upl, cust, whole).want(200).into(&done)
		a := e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200)
		a.into(&list)
		if len(list.Assets) != 1 || list.Assets[0].Type != "image/png" || list.Assets[0].Name != "id.png" {
			t.Fatalf("upload kept as %+v", list.Assets)
		}
		if n := countFiles(t, dir); n == 0 {
			t.Fatal("the good upload is not in the blob store")
		}
		// A custom task is marked done; the others are done by doing them.
		if _, err := e.svc.Gates.CompleteTask(t.Context(), s.ID, sign.ID, nil); err == nil {
			t.Fatal("a sign task was marked done without a signature")
		}
	})
}

// A customer keeps their signed copies after the end with access full;
// with none they cannot reach them.
func TestAssetsAfterEnd(t *testing.T) {
	for _, mode := range []string{rooms.AccessFull, rooms.AccessNone} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, "memory")
			set := rooms.DefaultSettings()
			set.EndSessionAccess = rooms.EndAccess{Mode: mode}
			e.do("PUT", "/api/settings", "admin", set).want(200)
			s, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo ID"})
			var done taskReply
			e.do("POST", "/api/customer/tasks/"+task.ID+"/upload", "Link "+link, fileUpload(t, "id.png", pngImage(t, 20, 20))).want(200).into(&done)
			e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).want(200)
			path := "/api/sessions/" + s.ID + "/assets/" + done.Task.Assets[0]
			if mode == rooms.AccessFull {
				e.download(path, "Link "+link).want(200)
			} else {
				e.download(path, "Link "+link).wantError(410, "session_ended")
			}
			// The agent always can, and a renew keeps the files.
			e.download(path, "alex").want(200)
			e.do("POST", "/api/sessions/"+s.ID+"/renew", "alex", nil).want(200)
			e.download(path, "Link "+link).want(200)
		})
	}
}

// A restart on Redis with file blobs loses nothing: the records, the
// bytes, and the task's state.
func TestAssetsSurviveRestart(t *testing.T) {
	e := newEnv(t, "redis")
	dir := "file://" + t.TempDir() + "/blobs"
	b, err := blobs.Open(t.Context(), dir)
	e.must(err)
	e.blobs = b
	e.start()
	s, task, link := e.taskSession(map[string]any{"kind": "sign", "title": "Sign"})
	e.do("POST", "/api/sessions/"+s.ID+"/tasks/"+task.ID+"/document", "alex", fileUpload(t, "offer.pdf", pdfsign.Sample("Offer", 1))).want(200)
	var done taskReply
	e.do("POST", "/api/customer/tasks/"+task.ID+"/sign", "Link "+link, map[string]string{"name": "Cara Customer"}).want(200).into(&done)
	before := e.download("/api/sessions/"+s.ID+"/assets/"+done.Task.Assets[0], "alex").want(200).body

	reopened, err := blobs.Open(t.Context(), dir)
	e.must(err)
	e.blobs = reopened
	e.start()
	e.tokens["alex"] = e.login("alex@cohub.test", testPassword)
	after := e.download("/api/sessions/"+s.ID+"/assets/"+done.Task.Assets[0], "alex").want(200).body
	if !bytes.Equal(before, after) {
		t.Fatal("the signed copy changed over a restart")
	}
	got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session()
	if got.Tasks[0].Status != rooms.TaskCompleted || len(got.Tasks[0].Assets) != 1 {
		t.Fatalf("task after restart %+v", got.Tasks[0])
	}
}

// The retention setting deletes the files of sessions ended long ago.
func TestRetentionSweep(t *testing.T) {
	e := newEnv(t, "redis")
	set := rooms.DefaultSettings()
	set.AssetRetentionDays = 7
	e.do("PUT", "/api/settings", "admin", set).want(200)
	s, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo ID"})
	var done taskReply
	e.do("POST", "/api/customer/tasks/"+task.ID+"/upload", "Link "+link, fileUpload(t, "id.png", pngImage(t, 20, 20))).want(200).into(&done)
	e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).want(200)
	path := "/api/sessions/" + s.ID + "/assets/" + done.Task.Assets[0]
	if n, err := e.svc.Files.SweepAssets(t.Context()); err != nil || n != 0 {
		t.Fatalf("a fresh end swept %d, %v", n, err)
	}
	e.download(path, "alex").want(200)
	e.clock.Advance(8 * 24 * time.Hour)
	e.tokens["alex"] = e.login("alex@cohub.test", testPassword)
	// The upload and the completion certificate its completion made.
	if n, err := e.svc.Files.SweepAssets(t.Context()); err != nil || n != 2 {
		t.Fatalf("swept %d, %v", n, err)
	}
	e.download(path, "alex").wantError(410, "asset_deleted")
	var list assetList
	e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
	if len(list.Assets) != 2 || list.Assets[0].DeletedAt == nil || list.Assets[1].DeletedAt == nil {
		t.Fatalf("the record should stay, marked deleted: %+v", list.Assets)
	}
}

// Re-engage changes the customer's details and keeps every file: the
// agent still lists and downloads them, the task stays completed, and
// the customer's new link reaches the signed copy.
func TestAssetsKeptOverReengage(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s, task, link := e.taskSession(map[string]any{"kind": "sign", "title": "Sign"})
		var up rooms.Task
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]any{"kind": "upload", "title": "Photo ID"}).want(201).into(&up)
		e.do("POST", "/api/sessions/"+s.ID+"/tasks/"+task.ID+"/document", "alex", fileUpload(t, "offer.pdf", pdfsign.Sample("Offer", 1))).want(200)
		var signed, uploaded taskReply
		e.do("POST", "/api/customer/tasks/"+task.ID+"/sign", "Link "+link, map[string]string{"name": "Cara Customer"}).want(200).into(&signed)
		e.do("POST", "/api/customer/tasks/"+up.ID+"/upload", "Link "+link, fileUpload(t, "id.png", pngImage(t, 20, 20))).want(200).into(&uploaded)
		var before assetList
		e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&before)
		copyPath := "/api/sessions/" + s.ID + "/assets/" + signed.Task.Assets[0]
		body := e.download(copyPath, "alex").want(200).body

		email := fmt.Sprintf("reengaged%d@example.com", e.n)
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"name": "Cara Newname", "email": email}}).want(200)

		var after assetList
		e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&after)
		// Document, signed copy, upload, and the completion certificate.
		if len(before.Assets) != 4 || len(after.Assets) != len(before.Assets) {
			t.Fatalf("assets before %d, after re-engage %d", len(before.Assets), len(after.Assets))
		}
		for i := range before.Assets {
			if after.Assets[i].ID != before.Assets[i].ID || after.Assets[i].SHA256 != before.Assets[i].SHA256 {
				t.Fatalf("asset %d changed: %+v → %+v", i, before.Assets[i], after.Assets[i])
			}
			e.download("/api/sessions/"+s.ID+"/assets/"+after.Assets[i].ID, "alex").want(200)
		}
		if !bytes.Equal(e.download(copyPath, "alex").want(200).body, body) {
			t.Fatal("the signed copy changed over a re-engage")
		}
		got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session()
		if got.Tasks[0].Status != rooms.TaskCompleted || got.Tasks[0].DocumentID == "" || len(got.Tasks[0].Assets) != 1 ||
			got.Tasks[1].Status != rooms.TaskCompleted || len(got.Tasks[1].Assets) != 1 {
			t.Fatalf("tasks after re-engage %+v", got.Tasks)
		}
		if !bytes.Equal(e.download(copyPath, "Link "+e.linkSentTo(email)).want(200).body, body) {
			t.Fatal("the new link does not download the signed copy")
		}
	})
}

// With limited_for, the customer still downloads their files after the
// end but sends no more (nothing is kept), and once the time is up
// they download nothing.
func TestAssetsLimitedAfterEnd(t *testing.T) {
	e := newEnv(t, "memory")
	set := rooms.DefaultSettings()
	set.EndSessionAccess = rooms.EndAccess{Mode: rooms.AccessLimitedFor, Duration: rooms.Duration(2 * time.Hour)}
	e.do("PUT", "/api/settings", "admin", set).want(200)
	s, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo ID"})
	var second rooms.Task
	e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]any{"kind": "upload", "title": "Payslip"}).want(201).into(&second)
	var done taskReply
	e.do("POST", "/api/customer/tasks/"+task.ID+"/upload", "Link "+link, fileUpload(t, "id.png", pngImage(t, 20, 20))).want(200).into(&done)
	e.do("POST", "/api/sessions/"+s.ID+"/end", "alex", nil).want(200)
	path := "/api/sessions/" + s.ID + "/assets/" + done.Task.Assets[0]
	e.download(path, "Link "+link).want(200)
	e.do("POST", "/api/customer/tasks/"+second.ID+"/upload", "Link "+link, fileUpload(t, "slip.png", pngImage(t, 20, 20))).
		wantError(409, "read_only")
	var list assetList
	e.do("GET", "/api/sessions/"+s.ID+"/assets", "alex", nil).want(200).into(&list)
	if len(list.Assets) != 1 {
		t.Fatalf("an upload after the end kept something: %+v", list.Assets)
	}
	e.clock.Advance(3 * time.Hour)
	e.tokens["alex"] = e.login("alex@cohub.test", testPassword)
	e.download(path, "Link "+link).wantError(410, "session_ended")
	e.download(path, "alex").want(200)
}

// countFiles counts the regular files under dir (none when it does not exist).
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// An upload slower than the server's read timeout (cohub's is 30 s, short
// for 10 MiB from a phone on a slow link) still arrives whole.
func TestSlowUploadArrives(t *testing.T) {
	e := newEnv(t, "memory")
	e.readTimeout = 300 * time.Millisecond
	e.start()
	e.tokens["alex"] = e.login("alex@cohub.test", testPassword)
	_, task, link := e.taskSession(map[string]any{"kind": "upload", "title": "Photo of your ID"})
	up := fileUpload(t, "id.png", pngImage(t, 400, 300))
	body, feed := io.Pipe()
	go func() {
		// A slow link: the body in ten pieces over three read timeouts.
		step := (len(up.body) + 9) / 10
		for i := 0; i < len(up.body); i += step {
			time.Sleep(e.readTimeout * 3 / 10)
			if _, err := feed.Write(up.body[i:min(i+step, len(up.body))]); err != nil {
				return
			}
		}
		_ = feed.Close()
	}()
	req, err := http.NewRequest("POST", e.srv.URL+"/api/customer/tasks/"+task.ID+"/upload", body)
	e.must(err)
	req.Header.Set("Authorization", "Link "+link)
	req.Header.Set("Content-Type", up.contentType)
	res, err := e.client(http.DefaultClient).Do(req)
	if err != nil {
		t.Fatalf("the slow upload was cut off: %v", err)
	}
	defer res.Body.Close()
	var done taskReply
	if err := json.NewDecoder(res.Body).Decode(&done); err != nil || res.StatusCode != 200 {
		t.Fatalf("slow upload: %d %v", res.StatusCode, err)
	}
	if done.Task.Status != rooms.TaskCompleted || len(done.Task.Assets) != 1 {
		t.Fatalf("task after the slow upload: %+v", done.Task)
	}
}
