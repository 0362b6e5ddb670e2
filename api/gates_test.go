package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms"
)

// gate sets the Sales team's customer authentication and consent.
func (e *env) gate(auth string, consent bool) {
	e.t.Helper()
	ts := rooms.DefaultTeamSettings()
	ts.CustomerAuthentication = auth
	ts.Consent = rooms.ConsentSetting{Required: consent, Text: "I agree to share my screen."}
	e.do("PUT", "/api/teams/"+e.sales, "admin", rooms.Team{Name: "Sales", Settings: ts}).want(200)
}

// codeSentTo returns the newest one-time code the outbox sent to.
func (e *env) codeSentTo(to string) string {
	e.t.Helper()
	msgs, err := e.outbox.List(context.Background(), 1000)
	e.must(err)
	six := regexp.MustCompile(`\b\d{6}\b`)
	for _, m := range msgs {
		if m.To == to && m.Subject == "Your Cohub code" {
			return six.FindString(m.Body)
		}
	}
	e.t.Fatalf("no code sent to %s", to)
	return ""
}

// customerWith calls a customer route with a link, a body and a
// customer token.
func (e *env) customerWith(method, path, link string, body any, token string) *resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, encodeBody(body))
	e.must(err)
	req.Header.Set("Authorization", "Link "+link)
	if token != "" {
		req.Header.Set("X-Cohub-Customer", token)
	}
	return e.send(req)
}

type gateView struct {
	Session struct {
		Tasks []rooms.Task `json:"tasks"`
	} `json:"session"`
	Gates         rooms.Gates `json:"gates"`
	CustomerToken string      `json:"customer_token"`
}

func TestOTPAndConsentGates(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.gate("otp", true)
		s := e.startSession("alex", "gated@example.com")
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
		link := e.linkSentTo("gated@example.com")

		var v gateView
		e.customer("GET", "/api/customer/session", link).want(200).into(&v)
		if v.Gates != (rooms.Gates{Authentication: rooms.AuthPending, Consent: rooms.ConsentPending, Method: "otp"}) || len(v.Session.Tasks) != 0 {
			t.Fatalf("before the gates: %+v", v)
		}
		e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": true}, "").wantError(403, "forbidden")

		var sent rooms.NewLinkSent
		e.customer("POST", "/api/customer/otp", link).want(202).into(&sent)
		if strings.Contains(sent.To, "gated@") || sent.To == "" || sent.Channel != "email" {
			t.Fatalf("code destination not masked: %+v", sent)
		}
		e.customer("POST", "/api/customer/otp", link).wantError(429, "rate_limited")
		code := e.codeSentTo("gated@example.com")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range rooms.MaxAuthFail - 1 {
			e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": wrong}, "").wantError(401, "unauthenticated")
		}
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": code}, "").want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthVerified || v.CustomerToken != "" {
			t.Fatalf("after the code: %+v", v)
		}

		e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": false}, "").want(200).into(&v)
		if v.Gates.Consent != rooms.ConsentDeclined || v.CustomerToken != "" {
			t.Fatalf("declined: %+v", v)
		}
		r := e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": true}, "").want(200)
		r.into(&v)
		if v.Gates.Consent != rooms.ConsentAccepted || v.CustomerToken == "" || !strings.Contains(r.header.Get("Set-Cookie"), "cohub_customer=") {
			t.Fatalf("accepted: %+v (cookie %q)", v, r.header.Get("Set-Cookie"))
		}
		token := v.CustomerToken

		var bare, full gateView
		e.customer("GET", "/api/customer/session", link).want(200).into(&bare)
		e.customerWith("GET", "/api/customer/session", link, nil, token).want(200).into(&full)
		if len(bare.Session.Tasks) != 0 || len(full.Session.Tasks) != 1 {
			t.Fatalf("tasks without the token %d, with it %d", len(bare.Session.Tasks), len(full.Session.Tasks))
		}

		var h struct{ Sessions []rooms.Session }
		e.do("GET", "/api/sessions?updated=true", "alex", nil).want(200).into(&h)
		if len(h.Sessions) != 1 || h.Sessions[0].ID != s.ID {
			t.Fatalf("the customer's answers did not mark the session updated: %+v", h.Sessions)
		}
		got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session()
		if got.Indicator.Authentication != rooms.AuthVerified || got.Indicator.Consent != rooms.ConsentAccepted {
			t.Fatalf("agent's view: %+v", got.Indicator)
		}
		var evs struct{ Events []rooms.Event }
		e.do("GET", "/api/sessions/"+s.ID+"/events", "alex", nil).want(200).into(&evs)
		kinds := map[string]int{}
		for _, ev := range evs.Events {
			kinds[ev.Type]++
		}
		if kinds[rooms.EventAuthChanged] != 1 || kinds[rooms.EventConsentChanged] != 2 {
			t.Fatalf("events %v", kinds)
		}

		ctx := context.Background()
		if _, _, err := e.svc.CustomerAuth(ctx, link, token); err != nil {
			t.Fatalf("gates passed, token refused: %v", err)
		}
		if _, _, err := e.svc.CustomerAuth(ctx, link, ""); err == nil {
			t.Fatal("gated session let in without the customer token")
		}
		// Re-engage issues a new link generation: the old token is void.
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "gated2@example.com"}}).want(200)
		if _, _, err := e.svc.CustomerAuth(ctx, e.linkSentTo("gated2@example.com"), token); err == nil {
			t.Fatal("a token of an earlier link generation was accepted")
		}
	})
}

func TestPINLocksAfterFiveWrongAnswers(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.gate("pin", false)
		s := e.do("POST", "/api/sessions", "alex", map[string]any{
			"mode": "start", "customer": map[string]string{"email": "pin@example.com"}, "pin": "2468",
		}).want(201).session()
		link := e.linkSentTo("pin@example.com")
		for range rooms.MaxAuthFail - 1 {
			e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "1357"}, "").wantError(401, "unauthenticated")
		}
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "1357"}, "").wantError(429, "rate_limited")
		if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); got.Indicator.Authentication != rooms.AuthLocked {
			t.Fatalf("after five wrong PINs: %s", got.Indicator.Authentication)
		}
		// Locked: even the right PIN is refused until the lock runs out.
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "2468"}, "").wantError(429, "rate_limited")
		e.clock.Advance(rooms.LockFor + time.Second)
		if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); got.Indicator.Authentication != rooms.AuthPending {
			t.Fatalf("after the lock: %s", got.Indicator.Authentication)
		}
		var v gateView
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "2468"}, "").want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthVerified || v.CustomerToken == "" {
			t.Fatalf("right PIN after the lock: %+v", v)
		}
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "2468", "code": "123456"}, "").wantError(400, "validation_failed")
	})
}

func TestGateEdges(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()

		// No gates: the link alone passes, and the gate routes refuse.
		open := e.startSession("alex", "open@example.com")
		e.do("POST", "/api/sessions/"+open.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
		openLink := e.linkSentTo("open@example.com")
		if sess, _, err := e.svc.CustomerAuth(ctx, openLink, ""); err != nil || sess.ID != open.ID {
			t.Fatalf("a session without gates refused an empty customer token: %v", err)
		}
		var v gateView
		e.customer("GET", "/api/customer/session", openLink).want(200).into(&v)
		if len(v.Session.Tasks) != 1 || !v.Gates.Passed() {
			t.Fatalf("no gates, yet hidden: %+v", v)
		}
		e.customer("POST", "/api/customer/otp", openLink).wantError(409, "invalid_state")
		e.customerWith("POST", "/api/customer/verify", openLink, map[string]string{"code": "123456"}, "").wantError(409, "invalid_state")
		e.customerWith("POST", "/api/customer/consent", openLink, map[string]bool{"accept": true}, "").wantError(409, "invalid_state")
		e.customerWith("POST", "/api/customer/consent", openLink, map[string]any{"accept": true, "x": 1}, "").wantField("x")
		e.customerWith("POST", "/api/customer/verify", openLink, map[string]string{}, "").wantError(400, "validation_failed")

		// OTP: an expired code is a wrong answer; five wrong answers lock.
		e.gate("otp", false)
		s := e.startSession("alex", "otp@example.com")
		link := e.linkSentTo("otp@example.com")
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
		e.customer("POST", "/api/customer/otp", link).want(202)
		code := e.codeSentTo("otp@example.com")
		e.clock.Advance(rooms.OTPLifetime + time.Second)
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": code}, "").wantError(401, "unauthenticated")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range rooms.MaxAuthFail - 2 {
			e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": wrong}, "").wantError(401, "unauthenticated")
		}
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": wrong}, "").wantError(429, "rate_limited")
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": code}, "").wantError(429, "rate_limited")
		e.customer("POST", "/api/customer/otp", link).wantError(429, "rate_limited")
		e.customer("GET", "/api/customer/session", link).want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthLocked || len(v.Session.Tasks) != 0 {
			t.Fatalf("locked view: %+v", v)
		}
		var evs struct{ Events []rooms.Event }
		e.do("GET", "/api/sessions/"+s.ID+"/events", "alex", nil).want(200).into(&evs)
		locked := 0
		for _, ev := range evs.Events {
			if ev.Type == rooms.EventAuthChanged && ev.Auth == rooms.AuthLocked {
				locked++
			}
		}
		if locked != 1 {
			t.Fatalf("authentication.changed locked logged %d times", locked)
		}
		e.clock.Advance(rooms.LockFor)
		e.customer("GET", "/api/customer/session", link).want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthPending {
			t.Fatalf("after the lock: %+v", v.Gates)
		}
		// The counter starts again: one wrong answer is a 401, not a lock.
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": wrong}, "").wantError(401, "unauthenticated")

		// A second session (its own throttle): the right code passes.
		s = e.startSession("alex", "otp3@example.com")
		link = e.linkSentTo("otp3@example.com")
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
		e.customer("POST", "/api/customer/otp", link).want(202)
		code = e.codeSentTo("otp3@example.com")
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": code}, "").want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthVerified || v.CustomerToken == "" || len(v.Session.Tasks) != 1 {
			t.Fatalf("the right code: %+v", v)
		}
		token := v.CustomerToken
		e.customer("POST", "/api/customer/otp", link).wantError(409, "invalid_state")

		// The token is this session's only, and the cookie carries it too.
		if _, _, err := e.svc.CustomerAuth(ctx, link, rooms.CustomerToken([]byte("test-secret-0123456789"), open.ID, 1)); err == nil {
			t.Fatal("another session's customer token was accepted")
		}
		req, err := http.NewRequest("GET", e.srv.URL+"/api/customer/session", nil)
		e.must(err)
		req.Header.Set("Authorization", "Link "+link)
		req.AddCookie(&http.Cookie{Name: "cohub_customer", Value: token})
		e.send(req).want(200).into(&v)
		if len(v.Session.Tasks) != 1 {
			t.Fatalf("the cookie did not show the tasks: %+v", v)
		}

		// Link checks come first on the gate routes.
		e.customer("POST", "/api/customer/otp", link[:len(link)-3]+"abc").wantError(401, "unauthenticated")
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "otp2@example.com"}}).want(200)
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": code}, "").wantError(410, "link_revoked")
		e.customer("POST", "/api/customer/otp", link).wantError(410, "link_revoked")
		e.do("POST", "/api/sessions/"+open.ID+"/end", "alex", nil).want(200)
		e.clock.Advance(100 * 24 * time.Hour)
		e.customerWith("POST", "/api/customer/consent", openLink, map[string]bool{"accept": true}, "").wantError(410, "session_ended")
	})
}
