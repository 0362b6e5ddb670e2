package static_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/internal/browsertest"
	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/rooms"
)

// TestScreenshots writes the README's screenshots, with demo content,
// when COHUB_SCREENSHOTS names a directory:
//
//	COHUB_SCREENSHOTS=$PWD/docs/screenshots go test -run TestScreenshots ./static/
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("COHUB_SCREENSHOTS")
	if dir == "" {
		t.Skip("set COHUB_SCREENSHOTS to a directory to write the screenshots")
	}
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	ctx := context.Background()
	svc := c.Service()
	c.Team.Settings.CustomerAuthentication = "pin"
	c.Team.Settings.Consent = rooms.ConsentSetting{Required: true,
		Text: "I agree that Acme Bank may see the documents I share in this session and keep them with my loan file."}
	c.Team.Settings.TaskTemplates = []rooms.TaskTemplate{{Kind: "sign", Title: "Sign the loan agreement"},
		{Kind: "upload", Title: "Upload a photo ID"}, {Kind: "form", Title: "Confirm your address"}}
	_, err := svc.Accounts.UpdateTeam(ctx, c.Team)
	c.Must(err)
	support, err := svc.Accounts.CreateTeam(ctx, "Support", nil)
	c.Must(err)
	alex := person(c, "alex.rivera@acme.test", "Alex Rivera", rooms.RoleAgent, c.Team.ID, support.ID)
	person(c, "ada@acme.test", "Ada Admin", rooms.RoleAdmin, "")
	mk := func(name, email, phone, mode string) *rooms.Session {
		s, err := svc.Sessions.Create(ctx, alex, rooms.CreateRequest{Mode: mode, PIN: "246813",
			Customer: rooms.Customer{Name: name, Email: email, Phone: phone}})
		c.Must(err)
		return s
	}
	// The history spans a day: the service's clock goes back, then forward.
	at := func(d time.Duration) { c.Clock.Advance(d) }
	at(-26 * time.Hour)
	tom := mk("Tom Becker", "tom.b@example.net", "", "start")
	_, err = svc.Sessions.End(ctx, alex, tom.ID)
	c.Must(err)
	at(22 * time.Hour)
	noor := mk("Noor Haddad", "noor@example.org", "", "start")
	_, err = svc.Sessions.AddTask(ctx, alex, noor.ID, rooms.TaskRequest{Template: new(0)})
	c.Must(err)
	at(40 * time.Minute)
	_, err = svc.Sessions.End(ctx, alex, noor.ID)
	c.Must(err)
	at(80 * time.Minute)
	mk("Cara Lee", "cara@example.com", "", "preplan")
	at(70 * time.Minute)
	mk("Phil Ortega", "", "+14155550144", "start")
	at(25 * time.Minute)
	marco := mk("Marco Ruiz", "", "+14155550100", "start")
	task, err := svc.Sessions.AddTask(ctx, alex, marco.ID, rooms.TaskRequest{Kind: "custom", Title: "Call the branch back"})
	c.Must(err)
	at(2 * time.Minute)
	_, err = svc.Gates.CompleteTask(ctx, marco.ID, task.ID, nil)
	c.Must(err)
	at(10 * time.Minute)
	dana := mk("Dana Whitfield", "dana@example.com", "", "start")
	var sign *rooms.Task
	for _, i := range []int{0, 1} {
		task, err := svc.Sessions.AddTask(ctx, alex, dana.ID, rooms.TaskRequest{Template: new(i)})
		c.Must(err)
		if i == 0 {
			sign = task
		}
	}
	_, err = svc.Files.AttachDocument(ctx, alex, dana.ID, sign.ID, "loan-agreement.pdf", pdfsign.Sample("Loan agreement", 3))
	c.Must(err)
	at(time.Until(c.Clock.Now()) * -1) // back to now
	link, err := svc.Sessions.NewLink(ctx, alex, dana.ID)
	c.Must(err)
	base := c.Nodes[0].Server.URL

	cust := customerTab(t)
	cust.do("the PIN page", chromedp.Navigate(base+"/c/"+link.Token), chromedp.WaitVisible(tid("pin-input")))
	cust.do("the consent page", chromedp.SendKeys(tid("pin-input"), "246813"), chromedp.Click(tid("gate-submit")),
		chromedp.WaitVisible(tid("consent-agree")))
	browsertest.Screenshot(t, cust.ctx, filepath.Join(dir, "customer-consent.png"))
	cust.do("agree", chromedp.Click(tid("consent-agree")), chromedp.WaitVisible(tid("customer-chat-input")),
		chromedp.SendKeys(tid("customer-chat-input"), "Hi, I'm here. What do I need to do?"), chromedp.Click(tid("customer-chat-send")))

	agent := agentTab(t, "agent")
	agent.login(base, "alex.rivera@acme.test")
	agent.do("open Dana's room", chromedp.Click(tid("history-list", ` [data-id="`+dana.ID+`"]`)), chromedp.WaitVisible(tid("indicator")))
	agent.contains(tid("chat-log"), "What do I need to do?")
	agent.do("answer", chromedp.SendKeys(tid("chat-input"), "Welcome Dana! Please sign the loan agreement, and send a photo of your ID."),
		chromedp.Click(tid("chat-send")))
	cust.do("the customer picks the ID", chromedp.WaitVisible(tid("upload-work")),
		chromedp.SetUploadFiles(tid("upload-file"), []string{writeFile(t, "id.jpg", gpsPhoto(t))}), chromedp.WaitVisible(tid("upload-send")))
	cust.tap(tid("upload-send"))
	cust.do("and sends it", chromedp.WaitNotPresent(tid("upload-work")))
	cust.contains(tid("customer-progress"), "1 of 2 done")
	cust.do("and writes", chromedp.SendKeys(tid("customer-chat-input"), "Done with the ID. Reading the agreement now."),
		chromedp.Click(tid("customer-chat-send")))
	agent.contains(tid("chat-log"), "Reading the agreement now")
	agent.contains(tid("task-progress"), "1 of 2 done")
	agent.do("a draft", chromedp.SendKeys(tid("chat-input"), "Take your time, I'm here if anything is unclear."))
	browsertest.Screenshot(t, agent.ctx, filepath.Join(dir, "console-room.png"))
	agent.do("generate a URL", chromedp.Click(tid("session-menu")), chromedp.Click(tid("generate-url")), chromedp.WaitVisible(tid("session-url")),
		chromedp.Click(tid("session-menu")), chromedp.WaitVisible(tid("end-session")))
	browsertest.Screenshot(t, agent.ctx, filepath.Join(dir, "console-menu.png"))
	browsertest.Screenshot(t, cust.ctx, filepath.Join(dir, "customer-room.png"))

	cust.do("read the agreement", chromedp.Click(tid("task-open")), chromedp.WaitVisible(tid("pdf", `[data-rendered="1"]`)))
	cust.draw(tid("sig-pad"))
	cust.js(`(document.querySelector('[data-testid="pdf"]').scrollIntoView({block: "start"}), window.scrollBy(0, -56), "ok")`)
	browsertest.Screenshot(t, cust.ctx, filepath.Join(dir, "customer-sign.png"))
	cust.tap(tid("task-sign"))
	cust.do("signed", chromedp.WaitVisible(tid("download-signed")))
	cust.tap(tid("show-signed"))
	cust.do("the signed copy's last page", chromedp.WaitVisible(tid("pdf", `[data-rendered="3"]`)))
	cust.js(`(document.querySelector('[data-testid="pdf"] .pdf-nav').scrollIntoView({block: "center"}), "ok")`)
	browsertest.Screenshot(t, cust.ctx, filepath.Join(dir, "customer-signed.png"))
	agent.do("the files", chromedp.KeyEvent("\x1b"), chromedp.WaitVisible(tid("asset", `[data-kind="signed"]`)),
		chromedp.Click(tid("audit", " summary")), chromedp.ScrollIntoView(tid("assets")))
	browsertest.Screenshot(t, agent.ctx, filepath.Join(dir, "console-files.png"))

	admin := agentTab(t, "admin")
	admin.login(base, "ada@acme.test")
	admin.do("org settings", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("settings-form")))
	browsertest.Screenshot(t, admin.ctx, filepath.Join(dir, "console-admin-settings.png"))
	admin.do("a team", chromedp.Click(tid("admin-teams")), chromedp.Click(tid("team-item", `[data-id="`+c.Team.ID+`"]`)),
		chromedp.WaitVisible(tid("template-preview")), chromedp.ScrollIntoView(tid("template-preview")))
	browsertest.Screenshot(t, admin.ctx, filepath.Join(dir, "console-admin-team.png"))
}
