package static_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/internal/browsertest"
	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/pdfsign/sealtest"
	"github.com/cohub/cohub/rooms"
)

// draw drags a stroke across a canvas as a finger or mouse would.
func (b tab) draw(sel chromedp.CSS) {
	b.t.Helper()
	r, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q); el.scrollIntoView({block: "center"});
		const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, string(sel))))
	if err != nil || len(r) != 4 {
		b.t.Fatalf("canvas box: %v %v", r, err)
	}
	box := struct{ X, Y, W, H float64 }{r[0], r[1], r[2], r[3]}
	left := chromedp.ButtonType("left")
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, box.X+20, box.Y+box.H/2, left, chromedp.ClickCount(1))}
	for i := 1; i <= 20; i++ {
		x := box.X + 20 + float64(i)*(box.W-40)/20
		y := box.Y + box.H/2 + float64((i%4)-2)*box.H/8
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x, y, left))
	}
	steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, box.X+box.W-20, box.Y+box.H/2, left, chromedp.ClickCount(1)))
	b.do("draw a signature", steps...)
}

// tap brings an element to the middle of the screen (clear of the
// phone page's conversation sheet) and clicks it.
func (b tab) tap(sel chromedp.CSS) {
	b.t.Helper()
	b.js(fmt.Sprintf(`(document.querySelector(%q).scrollIntoView({block: "center"}), "ok")`, string(sel)))
	b.do("tap "+string(sel), chromedp.Click(sel))
}

// fetchInto starts a fetch in the page and keeps what check makes of
// its answer in window[name]; wait for it with until.
func (b tab) fetchInto(name, url, init, check string) {
	b.t.Helper()
	b.js(fmt.Sprintf(`(() => { window[%q] = null; fetch(%q, %s).then(async (r) => { window[%q] = await (%s)(r); })
		.catch((e) => { window[%q] = "error " + e; }); return "ok"; })()`, name, url, init, name, check, name))
}

const sha256Hex = `async (r) => r.ok ? Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", await r.arrayBuffer())))
	.map((x) => x.toString(16).padStart(2, "0")).join("") : "status " + r.status`

// gpsPhoto is a JPEG with an EXIF segment naming a GPS position.
func gpsPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for x := range 120 {
		img.Set(x, x%80, color.RGBA{20, 90, 200, 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	plain := b.Bytes()
	payload := []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08GPSLatitude 51.5007 N GPSLongitude 0.1246 W")
	seg := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	return append(append(append([]byte{}, plain[:2]...), seg...), plain[2:]...)
}

func writeFile(t *testing.T, name string, b []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTaskKindsInBrowsers: the agent assigns a sign task with a PDF; the
// customer on a phone reads it page by page and draws a signature; the
// agent sees the indicator go to completed and the session under
// Updated sessions, and downloads a signed copy whose hash is the audit
// record's. A form's pattern is refused in the browser and by the
// server, then the answer reaches the agent. An upload is checked by
// content (an .exe named .jpg is refused) and a photo's GPS is gone.
// After the end, access "full" still downloads the signed copy. The
// signed copy is sealed and timestamped: the agent's page says so, and
// poppler's pdfsig finds the whole file validly signed.
func TestTaskKindsInBrowsers(t *testing.T) {
	files, err := blobs.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	sealer := timestampingSealer(t)
	c := livetest.NewClusterWith(t, "memory", 1, livetest.Fast(), livetest.Options{Rooms: func(cfg *rooms.Config) {
		cfg.Blobs, cfg.Sealer = files, sealer
	}})
	teamWith(c, "none", "",
		rooms.TaskTemplate{Kind: "form", Title: "Your policy", TaskContent: rooms.TaskContent{Fields: []rooms.FormField{{
			Name: "policy", Label: "Policy number", Type: "text", Required: true, Pattern: `[A-Z]{2}-[0-9]{6}`,
			Help: "Two capital letters, a dash and six digits, as on your card"},
			{Name: "city", Label: "City", Type: "text"}}}},
		rooms.TaskTemplate{Kind: "upload", Title: "Photo of your ID", TaskContent: rooms.TaskContent{Instructions: "The page with your photo."}})
	c.EndAccess(rooms.AccessFull, 0)
	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Dana Whitfield", Email: "dana@example.com"}})
	base := c.Nodes[0].Server.URL
	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("task-form")))
	cust.do("the customer opens the link", chromedp.Navigate(base+"/c/"+link), chromedp.WaitVisible(tid("customer-chat-input")))

	// Sign.
	pdfPath := writeFile(t, "loan-offer.pdf", pdfsign.Sample("Loan offer", 2))
	agent.choose(tid("task-template"), "adhoc")
	agent.fill(tid("task-title"), "Sign the loan offer")
	// The upload kind is named for what the customer does.
	agent.contains(tid("task-kind"), "Upload a document or photo")
	agent.choose(tid("task-kind"), "sign")
	agent.do("assign it with its PDF", chromedp.SetUploadFiles(tid("task-pdf"), []string{pdfPath}), chromedp.Click(tid("task-add")),
		chromedp.WaitVisible(tid("asset", `[data-kind="document"]`)))
	agent.js(`(location.hash = "#/", "ok")`)
	cust.do("read the first page", chromedp.WaitVisible(tid("task-open")), chromedp.Click(tid("task-open")),
		chromedp.WaitVisible(tid("pdf", `[data-pages="2"][data-rendered="1"]`)))
	cust.do("read the last page", chromedp.Click(tid("pdf-next")), chromedp.WaitVisible(tid("pdf", `[data-rendered="2"]`)))
	cust.contains(tid("pdf-page"), "Page 2 of 2")
	// While signing, the conversation is a bar and the page zooms.
	cust.do("the conversation folds to a bar", chromedp.WaitNotPresent(tid("customer-chat-input")), chromedp.WaitVisible(tid("chat-toggle")))
	if h := cust.js(`Math.round(document.querySelector('[data-testid="chat-sheet"]').getBoundingClientRect().height) + ""`); len(h) > 2 {
		t.Fatalf("the folded conversation is %s px high", h)
	}
	box := `document.querySelector('[data-testid="pdf-page-box"]')`
	cust.do("zoom in", chromedp.Click(tid("pdf-zoom-in")))
	cust.contains(tid("pdf-zoom"), "150%")
	cust.until("the zoomed page is wider than its box, which scrolls", box+`.scrollWidth > `+box+`.clientWidth * 1.4`)
	cust.do("zoom out", chromedp.Click(tid("pdf-zoom-out")))
	cust.until("the page fits its box again", box+`.scrollWidth <= `+box+`.clientWidth`)
	cust.draw(tid("sig-pad"))
	cust.tap(tid("task-sign"))
	cust.do("signed", chromedp.WaitVisible(tid("download-signed")))
	cust.do("the conversation is back", chromedp.WaitVisible(tid("customer-chat-input")))
	// Its only task done, the customer is offered the session's
	// completion certificate.
	cust.do("the certificate is offered", chromedp.WaitVisible(tid("download-certificate")))
	agent.do("the session is under Updated sessions", chromedp.WaitVisible(tid("updated-list", ` [data-id="`+id+`"]`)))
	agent.readable("the room and Updated sessions")
	cust.readable("the signed task")
	agent.do("open it", chromedp.Click(tid("updated-list", ` [data-id="`+id+`"]`)), chromedp.WaitVisible(tid("asset", `[data-kind="signed"]`)))
	agent.indicator("online_completed")
	agent.contains(tid("asset-seal"), "Digitally signed by Cohub (self-signed) · timestamped")
	signedID := agent.attr(tid("asset", `[data-kind="signed"]`), "data-id")
	report := sealtest.Pdfsig(t, download(t, c, "/api/sessions/"+id+"/assets/"+signedID))
	if !strings.Contains(report, "Signature is Valid") || !strings.Contains(report, "Total document signed") {
		t.Fatalf("pdfsig on the signed copy:\n%s", report)
	}
	agent.do("open the signature record", chromedp.Click(tid("audit", " summary")))
	audit := strings.TrimSpace(agent.text(tid("audit-sha256")))
	// The hash reads across the panel, not four characters a line.
	if w := agent.js(`String(Math.round(document.querySelector('[data-testid="audit-sha256"]').getBoundingClientRect().width))`); len(w) < 3 {
		t.Fatalf("the signed copy's SHA-256 is %s px wide", w)
	}
	agent.fetchInto("signed", "/api/sessions/"+id+"/assets/"+signedID, `{credentials: "same-origin"}`, sha256Hex)
	agent.until("the signed copy downloads", `window.signed !== null`)
	if got := agent.js(`window.signed`); got != audit || len(audit) != 64 {
		t.Fatalf("the signed copy hashes to %q, the audit record says %q", got, audit)
	}
	// The record checks out, and its export is a zip holding the signed
	// copy (fetched as the menu's download link does).
	agent.menu("check-record")
	agent.contains(chromedp.CSS(".toast"), "The record checks out")
	agent.fetchInto("record", "/api/sessions/"+id+"/export", `{credentials: "same-origin"}`,
		`async (r) => r.ok ? new TextDecoder("latin1").decode(await r.arrayBuffer()) : "status " + r.status`)
	agent.until("the record downloads", `window.record !== null`)
	if zip := agent.js(`window.record.slice(0, 2) + (window.record.includes("files/signed/") ? " signed" : "")`); zip != "PK signed" {
		t.Fatalf("the record's export: %q", zip)
	}
	// The export's certificate is sealed and timestamped too.
	cert := zipEntry(t, download(t, c, "/api/sessions/"+id+"/export"), "completion-certificate.pdf")
	if seals, err := pdfsign.ReadSeals(cert); err != nil || seals[0].Timestamp == nil || !strings.Contains(sealtest.Pdfsig(t, cert), "Signature is Valid") {
		t.Fatalf("the certificate's seal: %+v, %v", seals, err)
	}

	// A form: refused in the browser, refused by the server, then sent.
	agent.choose(tid("task-template"), "0")
	agent.do("assign the form", chromedp.Click(tid("task-add")))
	// Focus goes back to where the next task starts, not to the page.
	agent.until("focus is back on the task picker", `document.activeElement && document.activeElement.id === "task-template"`)
	cust.do("the form shows", chromedp.WaitVisible(tid("task-form-work")))
	// The required field is marked before any attempt, the optional one not.
	if got := cust.js(`[...document.querySelectorAll('[data-testid="task-form-work"] label')].map(l => l.textContent.trim()).join(" | ")`); got != "Policy number *(required) | City (optional)" {
		t.Fatalf("the form's labels read %q", got)
	}
	cust.readable("a form")
	formTask := cust.attr(chromedp.CSS(`[data-kind="form"][data-testid="customer-task"] [data-field="policy"]`), "id")
	formTask = strings.TrimSuffix(strings.TrimPrefix(formTask, "f-"), "-policy")
	// The page counts what it sends to the form's route: the browser's
	// own check must refuse before anything leaves (the server's
	// refusal would show the same words).
	cust.js(`(() => { window.formPosts = 0; const f = window.fetch;
		window.fetch = (u, o) => { if (String(u).endsWith("/form")) { window.formPosts++; } return f(u, o); }; return "ok"; })()`)
	cust.tap(tid("form-submit"))
	cust.contains(tid("field-error"), "Policy number is required")
	cust.fill(chromedp.CSS(`[data-field="policy"]`), "ab-12")
	cust.tap(tid("form-submit"))
	cust.contains(tid("field-error"), "Policy number is not in the expected format")
	if got := cust.attr(chromedp.CSS(`[data-field="policy"]`), "aria-invalid"); got != "true" {
		t.Fatalf("the field is not marked invalid: %q", got)
	}
	if got := cust.js(`String(window.formPosts)`); got != "0" {
		t.Fatalf("the browser sent %s refused forms to the server", got)
	}
	cust.fetchInto("server", "/api/customer/tasks/"+formTask+"/form",
		fmt.Sprintf(`{method: "POST", headers: {"Authorization": "Link %s", "Content-Type": "application/json"}, body: JSON.stringify({answers: {policy: "ab-12"}})}`, link),
		`async (r) => r.status + " " + (await r.json()).error.fields["answers.policy"]`)
	cust.until("the server refuses it too", `window.server !== null`)
	if got := cust.js(`window.server`); got != "400 is not in the expected format" {
		t.Fatalf("server answer %q", got)
	}
	cust.fill(chromedp.CSS(`[data-field="policy"]`), "AB-123456")
	cust.fill(chromedp.CSS(`[data-field="city"]`), "Leeds")
	cust.tap(tid("form-submit"))
	cust.do("the answer is sent", chromedp.WaitNotPresent(tid("task-form-work")))
	agent.contains(tid("form-answers"), "AB-123456")
	// The agent reads the answers in the form's order, not the alphabet's.
	if got := agent.js(`[...document.querySelectorAll('[data-testid="form-answers"] dt')].map(d => d.textContent).join(", ")`); got != "Policy number, City" {
		t.Fatalf("the answers read %q", got)
	}

	// An upload from the phone: checked by content, its EXIF gone.
	agent.choose(tid("task-template"), "1")
	agent.do("assign the upload", chromedp.Click(tid("task-add")))
	cust.do("the upload shows", chromedp.WaitVisible(tid("upload-work")))
	if accept, capture := cust.attr(tid("upload-camera"), "accept"), cust.attr(tid("upload-camera"), "capture"); accept != "image/*" || capture == "(none)" {
		t.Fatalf("the camera input: accept %q capture %q", accept, capture)
	}
	exe := writeFile(t, "passport.jpg", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), bytes.Repeat([]byte{0x4d, 0x5a}, 3000)...))
	// A file picked is shown first and sent only when the customer says so.
	cust.do("pick a program named .jpg", chromedp.SetUploadFiles(tid("upload-file"), []string{exe}), chromedp.WaitVisible(tid("upload-picked")))
	cust.do("send it", chromedp.Click(tid("upload-send")))
	cust.contains(tid("upload-error"), "not a JPEG or PNG photo or a PDF")
	cust.readable("an upload refused")
	photo := gpsPhoto(t)
	if !bytes.Contains(photo, []byte("GPSLatitude")) {
		t.Fatal("the test photo has no GPS")
	}
	cust.do("take another", chromedp.Click(tid("upload-retake")), chromedp.WaitNotPresent(tid("upload-picked")))
	cust.do("pick a photo", chromedp.SetUploadFiles(tid("upload-file"), []string{writeFile(t, "passport.jpg", photo)}),
		chromedp.WaitVisible(tid("upload-preview")))
	cust.until("the preview shows the photo", `document.querySelector('[data-testid="upload-preview"]').naturalWidth === 120`)
	cust.do("send the photo", chromedp.Click(tid("upload-send")), chromedp.WaitNotPresent(tid("upload-work")))
	agent.do("the upload reaches the agent", chromedp.WaitVisible(tid("asset", `[data-kind="upload"]`)))
	upID := agent.attr(tid("asset", `[data-kind="upload"]`), "data-id")
	agent.fetchInto("photo", "/api/sessions/"+id+"/assets/"+upID, `{credentials: "same-origin"}`,
		`async (r) => { const s = new TextDecoder("latin1").decode(await r.arrayBuffer());
			return r.headers.get("Content-Type") + (s.includes("GPS") || s.includes("Exif") ? " with EXIF" : " clean"); }`)
	agent.until("the photo downloads", `window.photo !== null`)
	if got := agent.js(`window.photo`); got != "image/jpeg clean" {
		t.Fatalf("the stored photo: %q", got)
	}

	// Ended with access full: the customer still downloads the signed copy.
	_, err = c.Service().Sessions.End(context.Background(), c.Alex, id)
	c.Must(err)
	cust.do("the session ends", chromedp.WaitVisible(tid("ended-notice")))
	cust.tap(tid("download-signed"))
	cust.do("the signed copy downloads", chromedp.WaitVisible(tid("downloaded")))
}

// With end access "none", the customer's link opens nothing, and the
// signed copy cannot be downloaded with it.
func TestSignedCopyAfterEndWithNoAccess(t *testing.T) {
	ctx := context.Background()
	files, err := blobs.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	c := livetest.NewClusterWith(t, "memory", 1, livetest.Fast(), livetest.Options{Rooms: func(cfg *rooms.Config) { cfg.Blobs = files }})
	c.EndAccess(rooms.AccessNone, 0)
	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Dana", Email: "dana@example.com"}})
	task, err := c.Service().Sessions.AddTask(ctx, c.Alex, id, rooms.TaskRequest{Kind: "sign", Title: "Sign"})
	c.Must(err)
	_, err = c.Service().Files.AttachDocument(ctx, c.Alex, id, task.ID, "offer.pdf", pdfsign.Sample("Offer", 1))
	c.Must(err)
	done, err := c.Service().Files.Sign(ctx, link, "", task.ID, rooms.SignInput{Name: "Dana"}, rooms.Client{IP: "192.0.2.1"})
	c.Must(err)
	base := c.Nodes[0].Server.URL
	cust := customerTab(t)
	cust.do("the customer's page", chromedp.Navigate(base+"/c/"+link), chromedp.WaitVisible(tid("download-signed")))
	_, err = c.Service().Sessions.End(ctx, c.Alex, id)
	c.Must(err)
	cust.do("the session ends with nothing kept", chromedp.WaitVisible(tid("ended")))
	cust.fetchInto("copy", "/api/sessions/"+id+"/assets/"+done.Assets[0],
		fmt.Sprintf(`{headers: {"Authorization": "Link %s"}}`, link), `async (r) => r.status + " " + (await r.json()).error.code`)
	cust.until("the download is refused", `window.copy !== null`)
	if got := cust.js(`window.copy`); got != "410 session_ended" {
		t.Fatalf("download after the end: %q", got)
	}
}

// TestTemplatePdfInBrowsers: an admin gives the team's sign template its
// PDF in the admin screen; the agent assigns the template, and the
// customer reads that PDF without the agent attaching one.
func TestTemplatePdfInBrowsers(t *testing.T) {
	ctx := context.Background()
	files, err := blobs.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	c := livetest.NewClusterWith(t, "memory", 1, livetest.Fast(), livetest.Options{Rooms: func(cfg *rooms.Config) { cfg.Blobs = files }})
	teamWith(c, "none", "", rooms.TaskTemplate{Kind: "sign", Title: "Sign the loan offer"})
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	base := c.Nodes[0].Server.URL

	admin := agentTab(t, "admin")
	admin.login(base, "ada@cohub.test")
	admin.do("open the team", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("settings-form")),
		chromedp.Click(tid("admin-teams")), chromedp.Click(tid("team-item", `[data-id="`+c.Team.ID+`"]`)),
		chromedp.WaitVisible(tid("tt-pdf-0")))
	pdf := writeFile(t, "loan-offer.pdf", pdfsign.Sample("Loan offer", 2))
	admin.do("upload the template's PDF", chromedp.SetUploadFiles(tid("tt-pdf-file"), []string{pdf}))
	admin.contains(tid("tt-pdf-name"), "loan-offer.pdf")
	team, err := c.Service().Store().Team(ctx, c.Team.ID)
	c.Must(err)
	if d := team.Settings.TaskTemplates[0].Document; d == nil || d.Name != "loan-offer.pdf" {
		t.Fatalf("the template's document was not stored: %+v", d)
	}

	id, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Dana Whitfield", Email: "dana@example.com"}})
	agent, cust := agentTab(t, "agent"), customerTab(t)
	agent.login(base, "alex@cohub.test")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("task-form")))
	agent.contains(tid("task-template-doc"), "loan-offer.pdf")
	agent.do("assign the template", chromedp.Click(tid("task-add")), chromedp.WaitVisible(tid("asset", `[data-kind="document"]`)))
	cust.do("the customer reads the template's PDF", chromedp.Navigate(base+"/c/"+link), chromedp.WaitVisible(tid("task-open")),
		chromedp.Click(tid("task-open")), chromedp.WaitVisible(tid("pdf", `[data-pages="2"][data-rendered="1"]`)))
}

// TestUploadOnDesktop: on a desktop the customer drops a file on the
// upload card (a drop from outside the page, as from the file manager);
// on a slow link the card shows how much has gone, and the task is done
// once the file is in.
func TestUploadOnDesktop(t *testing.T) {
	files, err := blobs.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	c := livetest.NewClusterWith(t, "memory", 1, livetest.Fast(), livetest.Options{Rooms: func(cfg *rooms.Config) { cfg.Blobs = files }})
	_, link := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Della Desk", Email: "della@example.com"},
		Tasks: []rooms.TaskTemplate{{Kind: "upload", Title: "Proof of address"}}})
	cust := tab{t: t, ctx: browsertest.Start(t), name: "customer"}
	cust.do("the upload card", chromedp.Navigate(c.Nodes[0].Server.URL+"/c/"+link), chromedp.WaitVisible(tid("upload-work")))
	cust.contains(tid("upload-work"), "Drag a file here")

	// About 5 s of upload at 64 KB/s: long enough to see it part sent.
	cust.do("a slow upload link", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: 64 << 10}}})
		return chromedp.Void{}, err
	})
	photo := writeFile(t, "bill.jpg", noisyPhoto(t, 320<<10))
	box, err := chromedp.Run(cust.ctx, chromedp.Evaluate[[]float64](`(() => {
		const r = document.querySelector('[data-testid="upload-work"]').getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`))
	if err != nil || len(box) != 2 {
		t.Fatalf("upload card: %v %v", box, err)
	}
	drag := func(kind input.DispatchDragEventType) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, input.DispatchDragEvent, input.DispatchDragEventParams{Type: kind, X: box[0], Y: box[1],
				Data: &input.DragData{Items: []*input.DragDataItem{}, Files: []string{photo}, DragOperationsMask: 1}})
			return chromedp.Void{}, err
		}
	}
	cust.do("drop the photo on the card", drag(input.DispatchDragEventTypeDragEnter), drag(input.DispatchDragEventTypeDragOver), drag(input.DispatchDragEventTypeDrop))
	cust.do("send it", chromedp.WaitVisible(tid("upload-preview")), chromedp.Click(tid("upload-send")))
	cust.until("the card shows part of the file sent", `(() => { const p = document.querySelector(".upload-progress progress");
		return !!p && p.value > 0 && p.value < 100; })()`)
	cust.do("the file is in", chromedp.WaitNotPresent(tid("upload-work")))
	cust.contains(tid("customer-progress"), "1 of 1 done")
}

// noisyPhoto is a JPEG of at least size bytes (noise does not compress).
func noisyPhoto(t *testing.T, size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	seed := uint32(1)
	for i := range img.Pix {
		seed = seed*1664525 + 1013904223
		img.Pix[i] = byte(seed >> 24)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if b.Len() < size {
		t.Fatalf("the photo is %d bytes, want %d", b.Len(), size)
	}
	return b.Bytes()
}

// timestampingSealer seals with the identity derived from the cluster's
// secret and a time-stamping authority of the test's own.
func timestampingSealer(t *testing.T) *pdfsign.Sealer {
	t.Helper()
	id, err := pdfsign.DerivedIdentity([]byte(livetest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	s, err := pdfsign.NewSealer(id, pdfsign.SealOptions{TSA: sealtest.StartTSA(t).URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// download fetches path from the cluster's first node as alex.
func download(t *testing.T, c *livetest.Cluster, path string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", c.Nodes[0].Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Tokens["alex"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return body
}

// TestEraseInBrowser: an admin erases an ended session's customer data
// from the session menu, after a confirmation that says what goes; the
// record still checks out, and the customer's name is gone from the page.
func TestEraseInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	ctx := context.Background()
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	id, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Erin Erasable", Email: "erin@example.com"}})
	_, err := c.Service().Sessions.PostMessage(ctx, id, rooms.Message{From: rooms.Actor{Role: "agent", ID: c.Alex.ID, Name: "alex"},
		Text: "Your reference is 98-765", AgentsHere: true})
	c.Must(err)
	_, err = c.Service().Sessions.End(ctx, c.Alex, id)
	c.Must(err)
	admin := agentTab(t, "admin")
	admin.login(c.Nodes[0].Server.URL, "ada@cohub.test")
	admin.do("open the session", chromedp.Navigate(c.Nodes[0].Server.URL+"/#/s/"+id), chromedp.WaitVisible(tid("session-menu")))
	admin.menu("erase-session")
	admin.contains(tid("erase-dialog"), "Erin's name, email and phone number")
	admin.readable("the erase confirmation")
	admin.do("erase", chromedp.Click(tid("erase-confirm")))
	admin.contains(chromedp.CSS(".toast"), "Erased: 1 message and 0 files")
	admin.menu("check-record")
	admin.contains(chromedp.CSS(".toast"), "The record checks out")
	s, err := c.Service().Store().Session(ctx, id)
	c.Must(err)
	if s.Customer.Email != "" || s.Customer.Name != "(erased)" {
		t.Fatalf("the customer after erasure: %+v", s.Customer)
	}
}

// zipEntry is one file of a zip.
func zipEntry(t *testing.T, body []byte, name string) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := z.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckRecordFindsAnEdit: on Redis, the agent's Check record says the
// session's record checks out; after the test edits one message in
// Redis by hand, it names that event.
func TestCheckRecordFindsAnEdit(t *testing.T) {
	c := livetest.NewCluster(t, "redis", 1, livetest.Fast())
	ctx := context.Background()
	id, _ := c.Session(rooms.CreateRequest{Customer: rooms.Customer{Name: "Rita Record", Email: "rita@example.com"}})
	var edited int64
	for _, text := range []string{"Hello Rita", "Your rate is 3.1%", "Talk soon"} {
		e, err := c.Service().Sessions.PostMessage(ctx, id, rooms.Message{From: rooms.Actor{Role: "agent", ID: c.Alex.ID, Name: "alex"},
			Text: text, AgentsHere: true})
		c.Must(err)
		if strings.Contains(text, "3.1%") {
			edited = e.Seq
		}
	}
	agent := agentTab(t, "agent")
	agent.login(c.Nodes[0].Server.URL, "alex@cohub.test")
	agent.do("open the room", chromedp.Click(tid("history-item", `[data-id="`+id+`"]`)), chromedp.WaitVisible(tid("session-menu")))
	agent.menu("check-record")
	agent.contains(chromedp.CSS(".toast"), "The record checks out")

	rdb := c.RedisClient()
	key := c.Prefix + "{" + id + "}:log"
	msgs, err := rdb.XRange(ctx, key, "-", "+").Result()
	c.Must(err)
	c.Must(rdb.Del(ctx, key).Err())
	for _, m := range msgs {
		body := strings.Replace(m.Values["e"].(string), "3.1%", "1.3%", 1)
		c.Must(rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: m.ID, Values: map[string]any{"e": body}}).Err())
	}
	agent.menu("check-record")
	agent.contains(chromedp.CSS(".toast"), fmt.Sprintf("Event #%d of the record was changed", edited))
}
