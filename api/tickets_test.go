package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

type ticketOut struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TestWSTicketIssue: POST /api/ws/ticket checks the caller's credential
// as any route does and binds the ticket to it: an agent's token, or a
// customer's link with their browser's pass (a gated session's link
// alone gets 403). A ticket is taken once, and not after its 30 s.
func TestWSTicketIssue(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		var out ticketOut
		e.do("POST", "/api/ws/ticket", "alex", nil).want(200).into(&out)
		if len(out.Ticket) < 40 || !out.ExpiresAt.Equal(e.clock.Now().Add(rooms.TicketTTL)) {
			t.Fatalf("ticket %+v", out)
		}
		cred, err := e.svc.Tickets.Take(ctx, out.Ticket)
		e.must(err)
		if cred != (rooms.Credential{Token: e.tokens["alex"]}) {
			t.Fatalf("the ticket stands for %+v", cred)
		}
		if _, err := e.svc.Tickets.Take(ctx, out.Ticket); !errors.Is(err, rooms.ErrBadCredential) {
			t.Fatalf("a ticket taken twice: %v", err)
		}
		e.do("POST", "/api/ws/ticket", "alex", nil).want(200).into(&out)
		e.clock.Advance(rooms.TicketTTL + time.Millisecond)
		if _, err := e.svc.Tickets.Take(ctx, out.Ticket); !errors.Is(err, rooms.ErrBadCredential) {
			t.Fatalf("a ticket past its time: %v", err)
		}
		e.do("POST", "/api/ws/ticket", "Bearer forged", nil).wantError(401, "unauthenticated")
		e.do("POST", "/api/ws/ticket", "alex", map[string]int{"x": 1}).wantField("x")

		e.gate("pin", false)
		s, link := e.pinSession("gated@example.com", "246813")
		e.customer("POST", "/api/ws/ticket", link).wantError(403, "forbidden")
		r := e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "246813"}, "").want(200)
		pass := passOf(r, s.ID)
		e.customerWith("POST", "/api/ws/ticket", link, nil, pass).want(200).into(&out)
		cred, err = e.svc.Tickets.Take(ctx, out.Ticket)
		e.must(err)
		if cred != (rooms.Credential{Link: link, Pass: pass}) {
			t.Fatalf("the customer's ticket stands for %+v", cred)
		}
		e.customer("POST", "/api/ws/ticket", link+"x").wantError(401, "unauthenticated")
	})
}

// A ticket asked with the login cookie needs a same-origin Origin, as
// any cookie request that changes state: another site cannot take one.
func TestWSTicketCookieNeedsSameOrigin(t *testing.T) {
	e := newEnv(t, "memory")
	ask := func(origin string) *resp {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/ws/ticket", strings.NewReader(""))
		req.AddCookie(&http.Cookie{Name: "cohub_auth", Value: e.tokens["alex"]})
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return e.send(req)
	}
	ask("https://evil.example").wantError(403, "forbidden")
	ask("").wantError(403, "forbidden")
	ask("http://cohub.test").want(200)
}
