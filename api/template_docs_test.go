package api_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/rooms"
)

// countingBlobs counts what is written to the real store beneath.
type countingBlobs struct {
	blobs.Store
	puts atomic.Int64
}

func (c *countingBlobs) Put(ctx context.Context, key, typ string, r io.Reader) error {
	c.puts.Add(1)
	return c.Store.Put(ctx, key, typ, r)
}

// signTemplates gives Sales a sign template (0) and a consent one (1).
func (e *env) signTemplates(doc *rooms.TemplateDocument) {
	e.t.Helper()
	ts := rooms.DefaultTeamSettings()
	ts.TaskTemplates = []rooms.TaskTemplate{
		{Kind: "sign", Title: "Sign the offer", Document: doc},
		{Kind: "consent", Title: "Agree", TaskContent: rooms.TaskContent{Text: "I agree."}},
	}
	var out rooms.Team
	e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).want(200).into(&out)
	if got := out.Settings.TaskTemplates[0].Document; doc != nil && (got == nil || got.SHA256 != doc.SHA256) {
		e.t.Fatalf("the PUT changed the template's document: %+v", got)
	}
}

func (e *env) salesTeam() (rooms.Team, string) {
	e.t.Helper()
	r := e.do("GET", "/api/teams/"+e.sales, "admin", nil).want(200)
	var t rooms.Team
	r.into(&t)
	return t, string(r.body)
}

// templateTask assigns a task from template 0 in a new session and
// returns the session, the task and the customer's credential.
func (e *env) templateTask() (*rooms.Session, rooms.Task, string) {
	e.t.Helper()
	s, task, link := e.taskSession(map[string]any{"template": 0})
	return s, task, "Link " + link
}

func TestTemplateDocument(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		counted := &countingBlobs{Store: e.blobs}
		e.blobs = counted
		e.start()
		// A client cannot give a template a document, nor a blob key.
		e.signTemplates(nil)
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: func() rooms.TeamSettings {
			team, _ := e.salesTeam()
			team.Settings.TaskTemplates[0].Document = &rooms.TemplateDocument{Name: "x.pdf", Size: 3, SHA256: "00", Key: "a/guessed"}
			return team.Settings
		}()}).want(200)
		if team, _ := e.salesTeam(); team.Settings.TaskTemplates[0].Document != nil {
			t.Fatalf("a client set a template's document: %+v", team.Settings.TaskTemplates[0].Document)
		}

		doc := "/api/teams/" + e.sales + "/templates/0/document"
		// Not a PDF: refused, nothing stored.
		e.do("POST", doc, "admin", fileUpload(t, "offer.pdf", []byte("%PDF-1.4 not really"))).wantError(400, "invalid_document")
		e.do("POST", "/api/teams/"+e.sales+"/templates/1/document", "admin", fileUpload(t, "offer.pdf", pdfsign.Sample("Offer", 1))).
			wantError(409, "invalid_state")
		e.do("POST", "/api/teams/"+e.sales+"/templates/7/document", "admin", fileUpload(t, "offer.pdf", pdfsign.Sample("Offer", 1))).
			wantError(404, "not_found")
		if n := counted.puts.Load(); n != 0 {
			t.Fatalf("refused uploads stored %d blobs", n)
		}

		first := pdfsign.Sample("Offer one", 1)
		r := e.do("POST", doc, "admin", fileUpload(t, "Offer 2026.pdf", first)).want(200)
		var team rooms.Team
		r.into(&team)
		d := team.Settings.TaskTemplates[0].Document
		if d == nil || d.Name != "Offer 2026.pdf" || d.Size != int64(len(first)) || d.SHA256 == "" {
			t.Fatalf("template document %+v", d)
		}
		_, body := e.salesTeam()
		if strings.Contains(string(r.body), `"key"`) || strings.Contains(body, `"key"`) {
			t.Fatalf("a reply shows the blob key: %s", body)
		}
		// Saving the team as read keeps its document; so does a restart.
		e.signTemplates(d)
		e.start()

		s1, task1, cust1 := e.templateTask()
		if task1.DocumentID == "" {
			t.Fatalf("the template's task has no document: %+v", task1)
		}
		got := e.download("/api/sessions/"+s1.ID+"/assets/"+task1.DocumentID, cust1).want(200)
		if !bytes.Equal(got.body, first) {
			t.Fatal("the customer's document is not the template's PDF")
		}
		if settings := e.do("GET", "/api/sessions/"+s1.ID+"/settings", "alex", nil).want(200); strings.Contains(string(settings.body), `"key"`) {
			t.Fatalf("session settings show the blob key: %s", settings.body)
		}

		// Replacing the template's PDF leaves the first session's copy.
		second := pdfsign.Sample("Offer two", 2)
		e.do("POST", doc, "admin", fileUpload(t, "offer-v2.pdf", second)).want(200)
		if got := e.download("/api/sessions/"+s1.ID+"/assets/"+task1.DocumentID, cust1).want(200); !bytes.Equal(got.body, first) {
			t.Fatal("replacing the template's PDF changed a session's copy")
		}
		s2, task2, cust2 := e.templateTask()
		if got := e.download("/api/sessions/"+s2.ID+"/assets/"+task2.DocumentID, cust2).want(200); !bytes.Equal(got.body, second) {
			t.Fatal("a new task did not get the replaced PDF")
		}

		// The customer signs the template's document.
		e.joinAsCustomer(s2.ID)
		var done taskReply
		e.do("POST", "/api/customer/tasks/"+task2.ID+"/sign", cust2, map[string]string{"name": "Cara Customer"}).want(200).into(&done)
		if done.Task.Status != rooms.TaskCompleted {
			t.Fatalf("signed task %+v", done.Task)
		}

		// Removed: new tasks wait for the agent's document again.
		var after rooms.Team
		e.do("DELETE", doc, "admin", nil).want(200).into(&after)
		if after.Settings.TaskTemplates[0].Document != nil {
			t.Fatal("the document was not removed")
		}
		if _, task3, _ := e.templateTask(); task3.DocumentID != "" {
			t.Fatalf("a task from a template without a document has one: %+v", task3)
		}
		if got := e.download("/api/sessions/"+s1.ID+"/assets/"+task1.DocumentID, cust1).want(200); !bytes.Equal(got.body, first) {
			t.Fatal("removing the template's PDF changed a session's copy")
		}

		// Templates reordered by a PUT keep their documents.
		e.do("POST", doc, "admin", fileUpload(t, "offer.pdf", first)).want(200)
		team, _ = e.salesTeam()
		tts := team.Settings.TaskTemplates
		team.Settings.TaskTemplates = []rooms.TaskTemplate{tts[1], tts[0]}
		var moved rooms.Team
		e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: team.Settings}).want(200).into(&moved)
		if d := moved.Settings.TaskTemplates[1].Document; d == nil || d.SHA256 != tts[0].Document.SHA256 || moved.Settings.TaskTemplates[0].Document != nil {
			t.Fatalf("reordered templates: %+v", moved.Settings.TaskTemplates)
		}
		s4, task4, link4 := e.taskSession(map[string]any{"template": 1})
		if got := e.download("/api/sessions/"+s4.ID+"/assets/"+task4.DocumentID, "Link "+link4).want(200); !bytes.Equal(got.body, first) {
			t.Fatal("the moved template's task lost its PDF")
		}
	})
}
