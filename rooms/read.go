package rooms

import "context"

// ReadState is how far each side of a session has read its room log:
// the customer, and the session's own agent. Another agent's reading (a
// supervisor watching) is kept under their name and shown to nobody
// else: it marks nothing read for the agent whose session it is, nor
// "Seen" for the customer.
type ReadState struct {
	Customer int64 `json:"customer"`
	Agent    int64 `json:"agent"`
}

// MarkRead raises by's own horizon in the session to seq: the customer's,
// or the agent's by id (a participant sets only its own; the hub passes
// the connection's identity, never one a frame names). It answers the
// horizon after and whether it rose; a seq not above it, or past the
// log's end, changes nothing.
func (s *SessionService) MarkRead(ctx context.Context, id string, by Actor, seq int64) (int64, bool, error) {
	if seq < 1 {
		return 0, false, &ValidationError{Fields: map[string]string{"data.seq": "must be a seq of the room: 1 or more"}}
	}
	return s.store.RaiseHorizon(ctx, id, readerOf(by), seq)
}

func readerOf(by Actor) string {
	if by.Role == "agent" {
		return ReaderAgent(by.ID)
	}
	return ReaderCustomer
}

// ReadState reads the session's horizons as its two sides see them;
// agentID is the session's agent ("": read from the session).
func (s *SessionService) ReadState(ctx context.Context, id, agentID string) (ReadState, error) {
	if agentID == "" {
		sess, err := s.store.Session(ctx, id)
		if err != nil {
			return ReadState{}, err
		}
		agentID = sess.AgentID
	}
	hs, err := s.store.Horizons(ctx, []string{id})
	if err != nil {
		return ReadState{}, err
	}
	return ReadState{Customer: hs[id][ReaderCustomer], Agent: hs[id][ReaderAgent(agentID)]}, nil
}

// maxUnreadScan bounds the log one history row reads for its count: a
// row past it shows that many ("200+" is as useful as the exact number).
const maxUnreadScan = 200

// withUnread counts each row's unread customer messages: one read of
// the page's horizons and one of its logs' ends, then a bounded log read
// only for the rows whose log goes past their agent's horizon (what the
// agent has read costs nothing). The count is a hint: a backend that
// fails here leaves the rows without it rather than failing the page.
func (s *SessionService) withUnread(ctx context.Context, list []*Session) {
	if len(list) == 0 {
		return
	}
	ids := make([]string, len(list))
	for i, sess := range list {
		ids[i] = sess.ID
	}
	hs, err := s.store.Horizons(ctx, ids)
	if err != nil {
		return
	}
	pos, err := s.store.LastSeqs(ctx, ids)
	if err != nil {
		return
	}
	for _, sess := range list {
		h := hs[sess.ID][ReaderAgent(sess.AgentID)]
		if pos[sess.ID].Seq <= h {
			continue
		}
		evs, err := s.store.Events(ctx, sess.ID, h, maxUnreadScan)
		if err != nil {
			return
		}
		for _, e := range evs {
			if e.Type == EventMessage && e.From != nil && e.From.Role == "customer" {
				sess.Unread++
			}
		}
	}
}
