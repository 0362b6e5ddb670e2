package rooms

import (
	"context"
	"fmt"
)

// Erasure is what an erasure took away.
type Erasure struct {
	Session  *Session `json:"session"`
	Messages int      `json:"messages"`
	Files    int      `json:"files"`
}

// Erase answers a data-protection request for an ended session (admins
// only): the customer's name and contact, what every event said
// (messages, form answers, task results) and every file go, from the
// store and the blob store. Each event keeps its seq and digest, so the
// chain (and verify) stays whole, and a tombstone event says who erased
// what and when. The customer keeps no access. Run again, it finishes
// what a failure left.
func (s *EvidenceService) Erase(ctx context.Context, a *Agent, id string) (*Erasure, error) {
	if a.Role != RoleAdmin {
		return nil, fmt.Errorf("%w: only an admin erases a session", ErrForbidden)
	}
	rw, ok := s.store.(LogRewriter)
	if !ok {
		return nil, fmt.Errorf("%w: this store cannot erase", ErrUnavailable)
	}
	as, err := s.files.assetStore()
	if err != nil {
		return nil, err
	}
	out := &Erasure{}
	sess, _, err := s.update(ctx, id, func(cur *Session) ([]Event, error) {
		if cur.State != StateEnded {
			return nil, fmt.Errorf("%w: end the session before erasing it", ErrInvalidState)
		}
		if out.Messages, out.Files, err = s.erasable(ctx, as, id); err != nil {
			return nil, err
		}
		blank(cur)
		text := fmt.Sprintf("Erased on request by %s: the customer's name and contact, what %d messages and every task said, and %d files.",
			a.Name, out.Messages, out.Files)
		return []Event{{Type: EventSessionErased, At: s.now(), From: agentActor(a), Text: text}}, nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := rw.RewriteLog(ctx, id, eraseEvent); err != nil {
		return nil, err
	}
	if _, err := s.files.sweepBlobs(ctx, as, id); err != nil {
		return nil, err
	}
	out.Session = sess
	return out, nil
}

// erasable counts what an erasure will take: messages still saying
// something, files still kept.
func (s *EvidenceService) erasable(ctx context.Context, as AssetStore, id string) (messages, files int, err error) {
	err = s.eachEvent(ctx, id, func(e Event) {
		if e.Type == EventMessage && !e.Erased {
			messages++
		}
	})
	if err != nil {
		return 0, 0, err
	}
	list, err := as.Assets(ctx, id)
	for _, f := range list {
		if f.DeletedAt == nil {
			files++
		}
	}
	return messages, files, err
}

// blank takes the customer out of a session's record.
func blank(cur *Session) {
	cur.Customer = Customer{Name: "(erased)"}
	for i := range cur.Invitations {
		cur.Invitations[i].To = ""
	}
	for i := range cur.Tasks {
		cur.Tasks[i].Result = nil
	}
	cur.Access = &EndAccess{Mode: AccessNone}
	in := &cur.Internal
	in.PINHash, in.PINSealed, in.OTPHash, in.OTPExpires, in.OTPSent, in.LinksResent = nil, nil, "", nil, nil, nil
}

// eraseEvent keeps what an event was (its kind, time, sender's role and
// id, task and statuses) and drops what it said; tombstones stay.
func eraseEvent(e Event) (Event, bool) {
	if e.Erased || e.Type == EventSessionErased {
		return e, false
	}
	out := Event{Seq: e.Seq, Type: e.Type, At: e.At, TaskID: e.TaskID, Access: e.Access, Consent: e.Consent,
		Auth: e.Auth, State: e.State, Assets: e.Assets, Digest: e.Digest, Erased: true}
	if e.From != nil {
		out.From = &Actor{Role: e.From.Role, ID: e.From.ID}
	}
	if e.Task != nil {
		out.Task = &Task{ID: e.Task.ID, Kind: e.Task.Kind, Title: e.Task.Title, Status: e.Task.Status}
	}
	return out, true
}
