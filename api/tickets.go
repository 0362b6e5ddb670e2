package api

import (
	"net/http"
	"time"

	"github.com/cohub/cohub/rooms"
)

// wsTickets serves POST /api/ws/ticket: a one-use ticket that opens the
// WebSocket, so that no credential travels in its URL.
type wsTickets struct {
	s       *Server
	tickets *rooms.TicketService
}

type ticketReply struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issue checks the caller's credential as any route would (a customer's
// link with their browser's pass, else the agent's bearer token or
// cookie, same-origin) and binds the ticket to it.
func (t wsTickets) issue(w http.ResponseWriter, r *http.Request) {
	if link := linkToken(r); link != "" {
		pass := customerToken(r, link)
		if _, _, err := t.s.gates.CustomerAuth(r.Context(), link, pass); err != nil {
			writeError(w, r, err)
			return
		}
		t.reply(w, r, rooms.Credential{Link: link, Pass: pass})
		return
	}
	t.s.requireAgent(func(w http.ResponseWriter, r *http.Request) {
		token, _ := credential(r)
		t.reply(w, r, rooms.Credential{Token: token})
	})(w, r)
}

func (t wsTickets) reply(w http.ResponseWriter, r *http.Request, c rooms.Credential) {
	if err := decodeOptional(w, r); err != nil {
		writeError(w, r, err)
		return
	}
	ticket, expires, err := t.tickets.Issue(r.Context(), c)
	reply(w, r, http.StatusOK, ticketReply{Ticket: ticket, ExpiresAt: expires}, err)
}
