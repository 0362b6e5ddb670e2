package api_test

import (
	"strings"
	"testing"

	"github.com/cohub/cohub/webhooks"
)

type endpointReply struct {
	webhooks.Endpoint
	Secret string `json:"secret"`
}

type endpointList struct {
	Webhooks   []map[string]any `json:"webhooks"`
	EventTypes []string         `json:"event_types"`
}

func (e *env) webhookList() endpointList {
	var out endpointList
	e.do("GET", "/api/webhooks", "admin", nil).want(200).into(&out)
	return out
}

// TestWebhookEndpoints: an admin registers an endpoint (its secret shown
// once), lists it without the secret, changes its events, disables it,
// rotates its secret and deletes it.
func TestWebhookEndpoints(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var ep endpointReply
		e.do("POST", "/api/webhooks", "admin", map[string]any{"url": "https://crm.example.com/hooks",
			"events": []string{"task.completed", "session.ended", "task.completed"}, "description": "CRM"}).want(201).into(&ep)
		if !strings.HasPrefix(ep.Secret, "whsec_") || ep.URL != "https://crm.example.com/hooks" || !ep.Enabled ||
			strings.Join(ep.Events, ",") != "task.completed,session.ended" || ep.Description != "CRM" || ep.CreatedAt.IsZero() {
			t.Fatalf("created %+v", ep)
		}
		r := e.do("GET", "/api/webhooks", "admin", nil).want(200)
		if strings.Contains(string(r.body), ep.Secret) || strings.Contains(string(r.body), `"secret"`) {
			t.Fatalf("the list shows the secret: %s", r.body)
		}
		list := e.webhookList()
		if len(list.Webhooks) != 1 || len(list.EventTypes) != len(webhooks.EventTypes) {
			t.Fatalf("list = %+v", list)
		}

		var changed endpointReply
		e.do("PUT", "/api/webhooks/"+ep.ID, "admin", map[string]any{"events": []string{}, "enabled": false}).want(200).into(&changed)
		if changed.Enabled || len(changed.Events) != 0 || changed.URL != ep.URL || changed.Description != "CRM" || changed.Secret != "" {
			t.Fatalf("changed %+v", changed)
		}

		var rotated endpointReply
		e.do("POST", "/api/webhooks/"+ep.ID+"/rotate-secret", "admin", nil).want(200).into(&rotated)
		if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == ep.Secret {
			t.Fatalf("rotated %+v", rotated)
		}
		var log struct{ Deliveries []webhooks.Delivery }
		e.do("GET", "/api/webhooks/"+ep.ID+"/deliveries", "admin", nil).want(200).into(&log)
		if len(log.Deliveries) != 0 {
			t.Fatalf("deliveries = %+v", log.Deliveries)
		}
		e.do("POST", "/api/webhooks/"+ep.ID+"/deliveries/dlv_none/retry", "admin", nil).wantError(404, "not_found")

		e.do("DELETE", "/api/webhooks/"+ep.ID, "admin", nil).want(200)
		e.do("DELETE", "/api/webhooks/"+ep.ID, "admin", nil).wantError(404, "not_found")
		if got := e.webhookList(); len(got.Webhooks) != 0 {
			t.Fatalf("after delete: %+v", got)
		}
	})
}

// TestWebhookBadInput: a malformed URL, a refused target and unknown
// event names are 400s naming the field, and change nothing.
func TestWebhookBadInput(t *testing.T) {
	e := newEnv(t, "memory")
	var ep endpointReply
	e.do("POST", "/api/webhooks", "admin", map[string]any{"url": "https://crm.example.com/hooks"}).want(201).into(&ep)
	before := e.webhookList()
	for _, url := range []string{
		"", "not a url", "ftp://crm.example.com/", "http://crm.example.com/", "https:///path", "https://user:pw@crm.example.com/",
		"https://169.254.169.254/latest/meta-data", "https://[fe80::1]/", "https://224.0.0.1/", "https://0.0.0.0/",
		"https://[::]/", "https://127.0.0.1/", "https://10.0.0.8/", "https://192.168.1.1/", "https://[::1]/",
		"https://[fd00:ec2::254]/", "https://100.100.100.200/",
	} {
		e.do("POST", "/api/webhooks", "admin", map[string]any{"url": url}).wantField("url")
		e.do("PUT", "/api/webhooks/"+ep.ID, "admin", map[string]any{"url": url}).wantField("url")
	}
	e.do("POST", "/api/webhooks", "admin", map[string]any{"url": "https://crm.example.com/x", "events": []string{"session.ended", "session.exploded"}}).
		wantField("events[1]")
	e.do("PUT", "/api/webhooks/"+ep.ID, "admin", map[string]any{"events": []string{"nope"}, "enabled": false}).wantField("events[0]")
	e.do("POST", "/api/webhooks", "admin", map[string]any{"url": "https://crm.example.com/x", "description": strings.Repeat("x", 501)}).
		wantField("description")
	e.do("POST", "/api/webhooks", "admin", map[string]any{"url": "https://crm.example.com/x", "secret": "whsec_mine"}).wantField("secret")
	after := e.webhookList()
	if len(after.Webhooks) != 1 || after.Webhooks[0]["enabled"] != true || after.Webhooks[0]["url"] != before.Webhooks[0]["url"] {
		t.Fatalf("bad input changed the endpoints: %+v", after.Webhooks)
	}
}
