// Package notify delivers invitations: the outbox (stored and listed for
// admins), SMTP and an SMS webhook. It imports none of Cohub's other
// packages; callers hand it finished messages.
package notify

import (
	"context"
	"fmt"
	"time"
)

// Message is one invitation to deliver.
type Message struct {
	Channel   string    `json:"channel"` // "email" | "sms"
	To        string    `json:"to"`
	Subject   string    `json:"subject,omitempty"`
	Body      string    `json:"body"`
	SessionID string    `json:"session_id"`
	At        time.Time `json:"at"`
}

// Sender delivers a message or says why it could not.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Mux sends email and SMS through their own senders.
type Mux struct {
	Email, SMS Sender
}

// Send dispatches by channel.
func (m Mux) Send(ctx context.Context, msg Message) error {
	switch msg.Channel {
	case "email":
		return m.Email.Send(ctx, msg)
	case "sms":
		return m.SMS.Send(ctx, msg)
	}
	return fmt.Errorf("notify: unknown channel %q", msg.Channel)
}
