package static_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cohub/cohub/app/livetest"
	"github.com/cohub/cohub/rooms"
)

// TestAPIKeysInBrowser: an admin issues a key acting as alex on the API
// keys screen and sees it once; a CRM starts a session for alex with it;
// the screen shows its last use; a revoke (after a confirmation) stops
// it at once.
func TestAPIKeysInBrowser(t *testing.T) {
	c := livetest.NewCluster(t, "memory", 1, livetest.Fast())
	person(c, "ada@cohub.test", "Ada Admin", rooms.RoleAdmin, "")
	base := c.Nodes[0].Server.URL
	ada := agentTab(t, "ada")
	ada.login(base, "ada@cohub.test")
	ada.do("the API keys", chromedp.Click(tid("admin-link")), chromedp.WaitVisible(tid("admin-keys")),
		chromedp.Click(tid("admin-keys")), chromedp.WaitVisible(tid("key-form")), chromedp.WaitVisible(tid("key-none")))
	ada.do("a key without a name", chromedp.Click(tid("key-issue")), chromedp.WaitVisible(chromedp.CSS("#key-name-err")))
	ada.fill(tid("key-name"), "Acme CRM")
	ada.choose(tid("key-agent"), c.Alex.ID)
	ada.do("issue", chromedp.Click(tid("key-issue")), chromedp.WaitVisible(tid("key-secret")))
	key := ada.js(`document.querySelector("[data-testid=key-secret]").value`)
	if !strings.HasPrefix(key, rooms.APIKeyPrefix) {
		t.Fatalf("the key shown: %q", key)
	}
	ada.readable("the key shown once")
	ada.do("done", chromedp.Click(tid("key-done")), chromedp.WaitNotPresent(tid("key-issued")))
	ada.contains(tid("key-row", `[data-name="Acme CRM"]`), c.Alex.Name)
	ada.contains(tid("key-row", `[data-name="Acme CRM"] [data-testid=key-last-used]`), "Never")
	if strings.Contains(ada.page(), key) {
		t.Fatal("the key is still on the page after Done")
	}

	crm := func() int {
		req, err := http.NewRequest("POST", base+"/api/sessions",
			strings.NewReader(`{"mode":"start","customer":{"name":"Cara","email":"cara.crm@example.com"}}`))
		c.Must(err)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		c.Must(err)
		res.Body.Close()
		return res.StatusCode
	}
	if code := crm(); code != 201 {
		t.Fatalf("the CRM's session: %d", code)
	}
	ada.do("the list again", chromedp.Click(tid("admin-agents")), chromedp.WaitVisible(tid("agent-table")),
		chromedp.Click(tid("admin-keys")), chromedp.WaitVisible(tid("key-table")))
	ada.until("the last use shows", `!document.querySelector('[data-testid=key-row][data-name="Acme CRM"] [data-testid=key-last-used]').textContent.includes("Never")`)
	ada.readable("the API keys")

	ada.do("revoke", chromedp.Click(tid("key-revoke")), chromedp.WaitVisible(tid("key-revoke-dialog")),
		chromedp.Click(tid("key-revoke-confirm")), chromedp.WaitVisible(tid("key-none")))
	if code := crm(); code != 401 {
		t.Fatalf("a revoked key: %d", code)
	}
}
