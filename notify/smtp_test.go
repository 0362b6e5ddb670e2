package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is a real SMTP server on a loopback port that records what
// it receives.
type mailServer struct {
	addr string
	mu   sync.Mutex
	got  []received
	user string
	pass string
}

type received struct {
	from, to string
	data     string
	tls      bool
	authed   bool
}

func startMailServer(t *testing.T, tlsConf *tls.Config, user, pass string) *mailServer {
	t.Helper()
	ms := &mailServer{user: user, pass: pass}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &mailSession{srv: ms, cur: received{tls: isTLS}, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = tlsConf
	srv.AllowInsecureAuth = false
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ms
}

func (ms *mailServer) messages() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.got...)
}

type mailSession struct {
	srv  *mailServer
	cur  received
	conn *smtp.Conn
}

func (s *mailSession) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.user || pass != s.srv.pass {
			return errors.New("invalid credentials")
		}
		s.cur.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && !s.cur.authed {
		return smtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = to
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func invitation() Message {
	return Message{Channel: "email", To: "cara@example.com", Subject: "Alex invited you",
		Body: "Hello Cara, open http://cohub.test/c/abc", SessionID: "s_1"}
}

func sendTo(t *testing.T, ms *mailServer, rawURL string, pool *x509.CertPool) error {
	t.Helper()
	s, err := NewSMTP(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if pool != nil {
		s.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, invitation())
}

func TestSMTPPlainServer(t *testing.T) {
	ms := startMailServer(t, nil, "", "")
	if err := sendTo(t, ms, "smtp://"+ms.addr+"?from=cohub@bank.example", nil); err != nil {
		t.Fatal(err)
	}
	got := ms.messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages", len(got))
	}
	m := got[0]
	if m.from != "cohub@bank.example" || m.to != "cara@example.com" || m.tls {
		t.Fatalf("envelope = %+v", m)
	}
	for _, want := range []string{"Subject: Alex invited you", "To: <cara@example.com>", "http://cohub.test/c/abc"} {
		if !strings.Contains(m.data, want) {
			t.Fatalf("message lacks %q:\n%s", want, m.data)
		}
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	conf, pool := selfSigned(t)
	ms := startMailServer(t, conf, "cohub", "s3cret-pass")
	if err := sendTo(t, ms, "smtp://cohub:s3cret-pass@"+ms.addr+"?from=cohub@bank.example", pool); err != nil {
		t.Fatal(err)
	}
	got := ms.messages()
	if len(got) != 1 || !got[0].tls || !got[0].authed {
		t.Fatalf("want one message over STARTTLS after AUTH, got %+v", got)
	}
	if err := sendTo(t, ms, "smtp://cohub:wrong@"+ms.addr+"?from=cohub@bank.example", pool); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if len(ms.messages()) != 1 {
		t.Fatal("a message went through with a wrong password")
	}
}

func TestSMTPRefusesUntrustedCertificate(t *testing.T) {
	conf, _ := selfSigned(t)
	ms := startMailServer(t, conf, "cohub", "s3cret-pass")
	err := sendTo(t, ms, "smtp://cohub:s3cret-pass@"+ms.addr+"?from=cohub@bank.example", nil)
	if err == nil || len(ms.messages()) != 0 {
		t.Fatalf("an unverified server got the mail (err %v)", err)
	}
}

func TestNewSMTPRefusesBadURLs(t *testing.T) {
	for _, u := range []string{
		"http://mail.example.com?from=a@b.c",
		"smtp://?from=a@b.c",
		"smtp://mail.example.com",
		"smtp://mail.example.com:99999?from=a@b.c",
		"::not a url",
	} {
		if _, err := NewSMTP(u); err == nil {
			t.Errorf("%q was accepted", u)
		}
	}
	s, err := NewSMTP("smtps://u:p@mail.example.com?from=a@b.c")
	if err != nil || s.port != 465 || !s.implicit || s.user != "u" || s.password != "p" {
		t.Fatalf("smtps: %+v %v", s, err)
	}
}
