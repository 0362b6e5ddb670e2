package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"strconv"

	mail "github.com/wneessen/go-mail"
)

// SMTPSender sends email invitations through an SMTP server.
type SMTPSender struct {
	host     string
	port     int
	implicit bool // smtps://: TLS from the first byte
	user     string
	password string
	from     string
	// TLSConfig verifies the server. Zero value: the system roots and the
	// URL's host name; tests set their own to trust a test certificate.
	TLSConfig *tls.Config
}

// NewSMTP parses smtp://user:pass@host:port?from=cohub@example.com
// (port 587 by default, STARTTLS whenever the server offers it) or
// smtps://… (implicit TLS, port 465). Auth is used only when a user is
// given; from is required.
func NewSMTP(rawURL string) (*SMTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	s := &SMTPSender{host: u.Hostname(), from: u.Query().Get("from")}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("smtp url: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if s.host == "" {
		return nil, fmt.Errorf("smtp url: no host")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, fmt.Errorf("smtp url: bad port %q", p)
		}
	}
	if s.from == "" {
		return nil, fmt.Errorf("smtp url: give the sender address as ?from=cohub@example.com")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	return s, nil
}

// Send delivers one plain-text mail, within ctx's deadline.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("smtp: sender address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtp: recipient address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	c, err := mail.NewClient(s.host, s.options()...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp: send to %s: %w", Mask(m.To), err)
	}
	return nil
}

func (s *SMTPSender) options() []mail.Option {
	tc := s.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	opts := []mail.Option{mail.WithPort(s.port), mail.WithTLSConfig(tc)}
	if s.implicit {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if s.user != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.user), mail.WithPassword(s.password))
	}
	return opts
}
