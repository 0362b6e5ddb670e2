package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/rooms"
)

// Logs never carry a password, a login token, a customer link or
// customer token, a one-time code or PIN, or a whole customer contact,
// whatever the request did.
func TestLogsCarryNoSecrets(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.logs = &logBuffer{}
		e.sender = quotingSender{fails: "failing.customer@example.com", next: notify.Mux{Email: e.outbox, SMS: e.outbox}}
		e.start()
		e.tokens["alex"] = e.login("alex@cohub.test", testPassword)
		e.do("POST", "/api/login", "", map[string]string{"email": "alex@cohub.test", "password": "wrong-password-1"}).want(401)

		// A PIN session, its link, its gates and the customer page.
		e.gate("pin", false)
		s, link := e.pinSession("secret.customer@example.com", "97531864")
		e.do("GET", "/c/"+link, "", nil).want(200)
		e.do("GET", "/c/"+link+"?customer_token=leaky", "", nil).want(200)
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "11223344"}, "").want(401)
		r := e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "97531864"}, "").want(200)
		var v gateView
		r.into(&v)
		e.customerWith("GET", "/api/customer/session", link, nil, v.CustomerToken).want(200)
		var l rooms.Link
		e.do("POST", "/api/sessions/"+s.ID+"/link", "alex", nil).want(200).into(&l)

		// An OTP session: the code goes out; and a failing sender whose
		// refusals quote the recipient and the message (link or code).
		e.gate("otp", false)
		e.startSession("alex", "otp.customer@example.com")
		otpLink := e.linkSentTo("otp.customer@example.com")
		e.customer("POST", "/api/customer/otp", otpLink).want(202)
		code := e.codeSentTo("otp.customer@example.com")
		failing := e.startSession("alex", "failing.customer@example.com")
		var fl rooms.Link
		e.do("POST", "/api/sessions/"+failing.ID+"/link", "alex", nil).want(200).into(&fl)
		failingLink := strings.TrimPrefix(fl.URL, "http://cohub.test/c/")
		e.customer("POST", "/api/customer/otp", failingLink).want(503)

		logs := e.logs.String()
		if !strings.Contains(logs, `"path":"/c/…"`) || !strings.Contains(logs, "request") {
			t.Fatalf("no request lines were logged:\n%s", logs)
		}
		if !strings.Contains(logs, "invitation failed") || !strings.Contains(logs, "code not delivered") {
			t.Fatalf("the failing sender's refusals were not logged:\n%s", logs)
		}
		for what, secret := range map[string]string{
			"password": testPassword, "wrong password": "wrong-password-1", "login token": e.tokens["alex"],
			"link": link, "new link": strings.TrimPrefix(l.URL, "http://cohub.test/c/"), "OTP link": otpLink,
			"customer token": v.CustomerToken, "PIN": "97531864", "wrong PIN": "11223344", "code": code,
			"customer email": "secret.customer@example.com", "OTP customer email": "otp.customer@example.com",
			"query": "leaky", "failing customer email": "failing.customer@example.com", "failing link": failingLink,
		} {
			if secret != "" && strings.Contains(logs, secret) {
				t.Errorf("the log carries the %s", what)
			}
		}
	})
}

// quotingSender refuses mail to one address the way a provider may: its
// error quotes the recipient and the whole message.
type quotingSender struct {
	fails string
	next  notify.Sender
}

func (q quotingSender) Send(ctx context.Context, m notify.Message) error {
	if m.To == q.fails {
		return fmt.Errorf("550 5.1.1 <%s>: mailbox unavailable; message was: %s", m.To, m.Body)
	}
	return q.next.Send(ctx, m)
}
