package rooms

import (
	"context"
	"encoding/hex"
)

// Verified is what walking a session's hash chain found.
type Verified struct {
	OK bool `json:"ok"`
	// Events is how many events the chain holds.
	Events int64 `json:"events"`
	// Head is the chain's last hash: a record of the whole log that a
	// certificate or a partner can keep and compare later.
	Head string `json:"head"`
	// FirstBadSeq is the first event whose content no longer matches its
	// digest, or whose seq breaks the order.
	FirstBadSeq int64 `json:"first_bad_seq,omitempty"`
}

// verifyPage is how many events one read of the walk takes.
const verifyPage = 500

// Verify walks a session's log an agent may open: each event's content
// against its digest, each seq after the one before, every digest
// linked onto the chain from the session's start.
func (s *SessionService) Verify(ctx context.Context, a *Agent, id string) (*Verified, error) {
	if err := s.MayOpen(ctx, a, id); err != nil {
		return nil, err
	}
	out := &Verified{OK: true}
	head := ChainStart(id)
	for since := int64(0); ; {
		evs, err := s.store.Events(ctx, id, since, verifyPage)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			digest := EventDigest(e)
			if out.OK && ((e.Digest != "" && e.Digest != digest) || e.Seq != since+1) {
				out.OK, out.FirstBadSeq = false, e.Seq
			}
			if e.Digest != "" {
				digest = e.Digest
			}
			head = ChainNext(head, digest)
			since = e.Seq
			out.Events++
		}
		if len(evs) < verifyPage {
			break
		}
	}
	out.Head = hex.EncodeToString(head[:])
	return out, nil
}
