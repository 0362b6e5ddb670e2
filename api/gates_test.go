package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/api"
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

// passOf is the customer token a gate reply kept in the session's
// cookie (set even before every gate is passed).
func passOf(r *resp, sessionID string) string {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == rooms.CustomerCookie(sessionID) {
			return c.Value
		}
	}
	return ""
}

// pinSession starts a PIN-gated session of alex's and returns it with
// its link.
func (e *env) pinSession(email, pin string) (*rooms.Session, string) {
	e.t.Helper()
	s := e.do("POST", "/api/sessions", "alex", map[string]any{
		"mode": "start", "customer": map[string]string{"email": email}, "pin": pin,
	}).want(201).session()
	e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
	return s, e.linkSentTo(email)
}

type gateView struct {
	Session struct {
		Tasks []rooms.Task `json:"tasks"`
	} `json:"session"`
	Gates         rooms.GateStatus `json:"gates"`
	CustomerToken string           `json:"customer_token"`
}

func TestOTPAndConsentGates(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.gate("otp", true)
		s := e.startSession("alex", "gated@example.com")
		e.do("POST", "/api/sessions/"+s.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
		link := e.linkSentTo("gated@example.com")

		var v gateView
		e.customer("GET", "/api/customer/session", link).want(200).into(&v)
		if v.Gates != (rooms.GateStatus{Authentication: rooms.AuthPending, Consent: rooms.ConsentPending, Method: "otp"}) || len(v.Session.Tasks) != 0 {
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
		r := e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": code}, "").want(200)
		r.into(&v)
		pass := passOf(r, s.ID)
		if v.Gates.Authentication != rooms.AuthVerified || v.CustomerToken != "" || pass == "" {
			t.Fatalf("after the code: %+v (cookie %q)", v, r.header.Get("Set-Cookie"))
		}
		if c := r.header.Get("Set-Cookie"); !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
			t.Fatalf("customer cookie = %q", c)
		}

		r = e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": false}, pass).want(200)
		r.into(&v)
		if v.Gates.Consent != rooms.ConsentDeclined || v.CustomerToken != "" {
			t.Fatalf("declined: %+v", v)
		}
		r = e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": true}, passOf(r, s.ID)).want(200)
		r.into(&v)
		if v.Gates.Consent != rooms.ConsentAccepted || v.CustomerToken == "" || passOf(r, s.ID) != v.CustomerToken {
			t.Fatalf("accepted: %+v (cookie %q)", v, r.header.Get("Set-Cookie"))
		}
		token := v.CustomerToken

		var bare, full gateView
		e.customer("GET", "/api/customer/session", link).want(200).into(&bare)
		e.customerWith("GET", "/api/customer/session", link, nil, token).want(200).into(&full)
		if len(bare.Session.Tasks) != 0 || len(full.Session.Tasks) != 1 || bare.Gates.Authentication != rooms.AuthPending {
			t.Fatalf("without the token %+v, with it %+v", bare, full)
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
			// The verification says how it was made.
			if ev.Type == rooms.EventAuthChanged && ev.Method != "otp" {
				t.Fatalf("the verification's method: %+v", ev)
			}
		}
		if kinds[rooms.EventAuthChanged] != 1 || kinds[rooms.EventConsentChanged] != 2 {
			t.Fatalf("events %v", kinds)
		}

		ctx := context.Background()
		if _, _, err := e.svc.Gates.CustomerAuth(ctx, link, token); err != nil {
			t.Fatalf("gates passed, token refused: %v", err)
		}
		if _, _, err := e.svc.Gates.CustomerAuth(ctx, link, ""); err == nil {
			t.Fatal("gated session let in without the customer token")
		}
		if _, _, err := e.svc.Gates.CustomerAuth(ctx, link, pass); err == nil {
			t.Fatal("a token without consent was let in")
		}
		// Re-engage issues a new link generation: the old token is void.
		e.do("POST", "/api/sessions/"+s.ID+"/reengage", "alex", map[string]any{
			"customer": map[string]string{"email": "gated2@example.com"}}).want(200)
		if _, _, err := e.svc.Gates.CustomerAuth(ctx, e.linkSentTo("gated2@example.com"), token); err == nil {
			t.Fatal("a token of an earlier link generation was accepted")
		}
	})
}

// The review's repro: once the customer passed PIN and consent, the same
// link in another browser got a working token for any PIN. Every call
// now checks its own answer, and the token is earned per browser.
func TestForwardedLinkMustPassTheGatesItself(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.gate("pin", true)
		s, link := e.pinSession("fwd@example.com", "246813")
		r := e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "246813"}, "").want(200)
		r = e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": true}, passOf(r, s.ID)).want(200)
		var mine gateView
		r.into(&mine)
		if mine.CustomerToken == "" {
			t.Fatalf("the real customer got no token: %s", r.body)
		}

		// Another browser: a wrong PIN is wrong, consent alone is refused.
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "000000"}, "").wantError(401, "unauthenticated")
		e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": true}, "").wantError(403, "forbidden")
		var theirs gateView
		e.customer("GET", "/api/customer/session", link).want(200).into(&theirs)
		if theirs.Gates.Authentication != rooms.AuthPending || theirs.Gates.Consent != rooms.ConsentPending || len(theirs.Session.Tasks) != 0 {
			t.Fatalf("a second browser is offered no gates: %+v", theirs)
		}
		// Its wrong answers count: five lock the gate for everyone new...
		for range rooms.MaxAuthFail - 2 {
			e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "000000"}, "").wantError(401, "unauthenticated")
		}
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "000000"}, "").wantError(429, "rate_limited")
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "246813"}, "").wantError(429, "rate_limited")
		if got := e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session(); got.Indicator.Authentication != rooms.AuthLocked {
			t.Fatalf("agent does not see the lock: %+v", got.Indicator)
		}
		// ...but the browser that proved itself keeps its room.
		if _, _, err := e.svc.Gates.CustomerAuth(context.Background(), link, mine.CustomerToken); err != nil {
			t.Fatalf("the real customer was locked out: %v", err)
		}
		// A second browser that knows the PIN earns a token of its own.
		e.clock.Advance(15*time.Minute + time.Second)
		r = e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "246813"}, "").want(200)
		r = e.customerWith("POST", "/api/customer/consent", link, map[string]bool{"accept": true}, passOf(r, s.ID)).want(200)
		r.into(&theirs)
		if theirs.CustomerToken == "" || theirs.CustomerToken == mine.CustomerToken || len(theirs.Session.Tasks) != 1 {
			t.Fatalf("second browser with the PIN: %+v", theirs)
		}
		// Forged or foreign tokens prove nothing.
		for _, forged := range []string{"v1.x.ac.AAAA", mine.CustomerToken + "x", strings.Replace(mine.CustomerToken, ".ac.", ".a.", 1)} {
			if _, _, err := e.svc.Gates.CustomerAuth(context.Background(), link, forged); err == nil {
				t.Fatalf("forged token %q let in", forged)
			}
		}
	})
}

// A lockout escalates: 15 minutes, an hour, then until an agent lets the
// customer try again; the agent sees the lock and when it ends.
func TestPINLockoutEscalates(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.gate("pin", false)
		e.do("POST", "/api/sessions", "alex", map[string]any{"mode": "start",
			"customer": map[string]string{"email": "short@example.com"}, "pin": "2468"}).wantField("pin")
		s, link := e.pinSession("pin@example.com", "24681357")
		lockOut := func() {
			t.Helper()
			for range rooms.MaxAuthFail - 1 {
				e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "13572468"}, "").wantError(401, "unauthenticated")
			}
			e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "13572468"}, "").wantError(429, "rate_limited")
		}
		indicator := func() rooms.Indicator {
			return e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session().Indicator
		}
		for _, d := range []time.Duration{15 * time.Minute, time.Hour} {
			lockOut()
			ind := indicator()
			if ind.Authentication != rooms.AuthLocked || ind.LockedUntil == nil || !ind.LockedUntil.Equal(e.clock.Now().Add(d)) {
				t.Fatalf("lock of %s: %+v", d, ind)
			}
			// Locked: even the right PIN is refused until the lock runs out.
			r := e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "24681357"}, "").wantError(429, "rate_limited")
			if !strings.Contains(string(r.body), "minutes") {
				t.Fatalf("the refusal does not say when: %s", r.body)
			}
			e.clock.Advance(d)
			if ind := indicator(); ind.Authentication != rooms.AuthPending || ind.LockedUntil != nil {
				t.Fatalf("after the lock of %s: %+v", d, ind)
			}
		}
		lockOut()
		e.clock.Advance(24 * time.Hour)
		if ind := indicator(); ind.Authentication != rooms.AuthLocked || ind.LockedUntil != nil {
			t.Fatalf("third lock: %+v", ind)
		}
		r := e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "24681357"}, "").wantError(429, "rate_limited")
		if !strings.Contains(string(r.body), "agent") {
			t.Fatalf("the refusal does not say to ask the agent: %s", r.body)
		}
		var v gateView
		e.customer("GET", "/api/customer/session", link).want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthLocked || v.Gates.LockedUntil != nil {
			t.Fatalf("customer's view of the held lock: %+v", v.Gates)
		}

		e.do("POST", "/api/sessions/"+s.ID+"/unlock", "blake", nil).wantError(403, "forbidden")
		got := e.do("POST", "/api/sessions/"+s.ID+"/unlock", "alex", nil).want(200).session()
		if got.Indicator.Authentication != rooms.AuthPending {
			t.Fatalf("after the agent unlocked: %+v", got.Indicator)
		}
		e.do("POST", "/api/sessions/"+s.ID+"/unlock", "alex", nil).wantError(409, "invalid_state")
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "24681357"}, "").want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthVerified || v.CustomerToken == "" {
			t.Fatalf("right PIN after the unlock: %+v", v)
		}
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"pin": "2468", "code": "123456"}, "").wantError(400, "validation_failed")
	})
}

// Codes and new links are bounded per session per day and per network
// per hour, and the refusal says so.
func TestCustomerMessagesAreBounded(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		s := e.startSession("alex", "spam@example.com")
		link := e.linkSentTo("spam@example.com")
		e.clock.Advance(80 * time.Hour) // the link expired: new links are for this
		for range rooms.NewLinksPerDay {
			e.customer("POST", "/api/customer/new-link", link).want(202)
			e.customer("POST", "/api/customer/new-link", link).wantError(429, "rate_limited")
			e.clock.Advance(rooms.OTPEvery)
		}
		r := e.customer("POST", "/api/customer/new-link", link).wantError(429, "rate_limited")
		if !strings.Contains(string(r.body), "a day") {
			t.Fatalf("the refusal does not say why: %s", r.body)
		}
		e.clock.Advance(24 * time.Hour)
		e.customer("POST", "/api/customer/new-link", link).want(202)
		if n := len(e.do("GET", "/api/sessions/"+s.ID, "alex", nil).want(200).session().Invitations); n != 1+rooms.NewLinksPerDay+1 {
			t.Fatalf("invitations recorded: %d", n)
		}

		e.gate("otp", false)
		o := e.startSession("alex", "codes@example.com")
		link = e.linkSentTo("codes@example.com")
		for range rooms.OTPsPerDay {
			e.customer("POST", "/api/customer/otp", link).want(202)
			e.clock.Advance(rooms.OTPEvery)
		}
		e.customer("POST", "/api/customer/otp", link).wantError(429, "rate_limited")
		_ = o

		// One network, many sessions: the hourly bound (the new links
		// above came from this network too).
		n := rooms.NewLinksPerDay + 1
		for i := 0; n < rooms.PerIPPerHour; i++ {
			e.startSession("alex", "net"+strconv.Itoa(i)+"@example.com")
			e.customer("POST", "/api/customer/new-link", e.linkSentTo("net"+strconv.Itoa(i)+"@example.com")).want(202)
			n++
		}
		e.startSession("alex", "last@example.com")
		r = e.customer("POST", "/api/customer/new-link", e.linkSentTo("last@example.com")).wantError(429, "rate_limited")
		if !strings.Contains(string(r.body), "network") {
			t.Fatalf("the refusal does not say why: %s", r.body)
		}
	})
}

// The hourly bound per client network takes an IPv6 network by its /64
// (one subscriber's block: 2^64 addresses would each get a budget) and
// an IPv4 address by itself, mapped into IPv6 or not.
func TestCustomerNetworkBoundTakesIPv6By64(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		// Behind a trusted proxy on loopback: X-Forwarded-For is the client.
		e.srv.Close()
		e.srv = httptest.NewServer(api.New(e.svc, e.outbox, api.Options{PublicURL: "http://cohub.test", TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}, e.logger()).Handler())
		t.Cleanup(e.srv.Close)
		// newLink asks for a new link of a new session from ip.
		newLink := func(ip string, i int) *resp {
			t.Helper()
			email := "net-" + strconv.Itoa(i) + "@example.com"
			e.startSession("alex", email)
			req, err := http.NewRequest("POST", e.srv.URL+"/api/customer/new-link", nil)
			e.must(err)
			req.Header.Set("Authorization", "Link "+e.linkSentTo(email))
			req.Header.Set("X-Forwarded-For", ip)
			return e.send(req)
		}
		// Every request from another address of 2001:db8:1:2::/64.
		for i := range rooms.PerIPPerHour {
			newLink(fmt.Sprintf("2001:db8:1:2:%x::%x", i, i+1), i).want(202)
		}
		r := newLink("2001:db8:1:2:ffff:ffff:ffff:fffe", 100).wantError(429, "rate_limited")
		if !strings.Contains(string(r.body), "network") {
			t.Fatalf("the refusal does not say why: %s", r.body)
		}
		// The next /64 and IPv4 have their own budgets.
		newLink("2001:db8:1:3::1", 101).want(202)
		newLink("198.51.100.7", 102).want(202)

		// An IPv4 address counts as itself, written as IPv4-mapped IPv6 too.
		for i := 1; i < rooms.PerIPPerHour; i++ {
			ip := "198.51.100.7"
			if i%2 == 1 {
				ip = "::ffff:198.51.100.7"
			}
			newLink(ip, 200+i).want(202)
		}
		newLink("198.51.100.7", 300).wantError(429, "rate_limited")
		newLink("198.51.100.8", 301).want(202)
	})
}

func TestGateEdges(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()

		// No gates: the link alone passes, and the gate routes refuse.
		open := e.startSession("alex", "open@example.com")
		e.do("POST", "/api/sessions/"+open.ID+"/tasks", "alex", map[string]string{"kind": "sign", "title": "Sign"}).want(201)
		openLink := e.linkSentTo("open@example.com")
		if sess, _, err := e.svc.Gates.CustomerAuth(ctx, openLink, ""); err != nil || sess.ID != open.ID {
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
		e.clock.Advance(15 * time.Minute)
		e.customer("GET", "/api/customer/session", link).want(200).into(&v)
		if v.Gates.Authentication != rooms.AuthPending {
			t.Fatalf("after the lock: %+v", v.Gates)
		}
		// The counter starts again: one wrong answer is a 401, not a lock.
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": wrong}, "").wantError(401, "unauthenticated")

		// A second session: the right code passes, once.
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
		e.customerWith("POST", "/api/customer/verify", link, map[string]string{"code": code}, "").wantError(401, "unauthenticated")
		// Another browser may ask for a code of its own (after the throttle).
		e.clock.Advance(rooms.OTPEvery)
		e.customer("POST", "/api/customer/otp", link).want(202)

		// The token is this session's only, and only its own cookie carries it.
		if _, _, err := e.svc.Gates.CustomerAuth(ctx, e.linkSentTo("otp@example.com"), token); err == nil {
			t.Fatal("another session's customer token was accepted")
		}
		for name, want := range map[string]int{rooms.CustomerCookie(s.ID): 1, "cohub_customer": 0, rooms.CustomerCookie(open.ID): 0} {
			req, err := http.NewRequest("GET", e.srv.URL+"/api/customer/session", nil)
			e.must(err)
			req.Header.Set("Authorization", "Link "+link)
			req.AddCookie(&http.Cookie{Name: name, Value: token})
			e.send(req).want(200).into(&v)
			if len(v.Session.Tasks) != want {
				t.Fatalf("cookie %s showed %d tasks, want %d", name, len(v.Session.Tasks), want)
			}
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

// Several gated sessions live side by side in one browser: each keeps
// its own customer cookie.
func TestTwoGatedSessionsInOneBrowser(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.gate("pin", false)
		jar, err := cookiejar.New(nil)
		e.must(err)
		browser := e.client(&http.Client{Jar: jar})
		call := func(method, path, link string, body any) *resp {
			t.Helper()
			req, err := http.NewRequest(method, e.srv.URL+path, encodeBody(body))
			e.must(err)
			req.Header.Set("Authorization", "Link "+link)
			res, err := browser.Do(req)
			e.must(err)
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			e.must(err)
			return &resp{t: t, status: res.StatusCode, header: res.Header, body: b}
		}
		_, one := e.pinSession("one@example.com", "111111")
		_, two := e.pinSession("two@example.com", "222222")
		call("POST", "/api/customer/verify", one, map[string]string{"pin": "111111"}).want(200)
		call("POST", "/api/customer/verify", two, map[string]string{"pin": "222222"}).want(200)
		for _, link := range []string{one, two} {
			var v gateView
			call("GET", "/api/customer/session", link, nil).want(200).into(&v)
			if v.Gates.Authentication != rooms.AuthVerified || len(v.Session.Tasks) != 1 {
				t.Fatalf("a gated session lost its pass to the other: %+v", v)
			}
		}
	})
}
