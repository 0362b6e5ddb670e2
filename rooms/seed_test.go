package rooms_test

import (
	"context"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/memstore"
)

// The demo teams' templates teach each kind: Sales signs a real PDF,
// fills a form that asks for something, consents to a text and uploads
// an ID as instructed; Support verifies identity with an upload.
func TestDemoTemplatesAreReal(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(nil)
	svc := rooms.NewService(store, nil, rooms.Config{Secret: []byte("demo-secret-0123456789"), BcryptCost: bcrypt.MinCost}, zerolog.Nop())
	logins, err := svc.Accounts.SeedDemo(ctx)
	if err != nil || len(logins) != 4 {
		t.Fatalf("seed: %v, %d logins", err, len(logins))
	}
	teams, err := store.ListTeams(ctx)
	if err != nil || len(teams) != 2 {
		t.Fatalf("teams %v, %v", teams, err)
	}
	kinds := map[string][]rooms.TaskTemplate{}
	for _, team := range teams {
		kinds[team.Name] = team.Settings.TaskTemplates
	}
	sales, support := kinds["Sales"], kinds["Support"]
	if len(sales) != 4 || sales[0].Kind != "sign" || sales[0].Document == nil || sales[0].Document.Size == 0 {
		t.Fatalf("Sales' sign template: %+v", sales)
	}
	if f := sales[1]; f.Kind != "form" || len(f.Fields) != 3 || f.Fields[1].Type != "date" || !f.Fields[0].Required {
		t.Fatalf("Sales' form: %+v", f)
	}
	if c := sales[2]; c.Kind != "consent" || c.Text == "" {
		t.Fatalf("Sales' consent: %+v", c)
	}
	if u := sales[3]; u.Kind != "upload" || u.Instructions == "" {
		t.Fatalf("Sales' upload: %+v", u)
	}
	if len(support) == 0 || support[0].Kind != "upload" || support[0].Title != "Verify your identity" {
		t.Fatalf("Support's templates: %+v", support)
	}
}
