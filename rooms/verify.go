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
	w := newChainWalk(id)
	err := s.eachEvent(ctx, id, func(e Event) { w.add(e) })
	if err != nil {
		return nil, err
	}
	v := w.result()
	return &v, nil
}

// eachEvent reads a session's whole log in seq order, a page at a time.
func (s *core) eachEvent(ctx context.Context, id string, fn func(Event)) error {
	for since := int64(0); ; {
		evs, err := s.store.Events(ctx, id, since, verifyPage)
		if err != nil {
			return err
		}
		for _, e := range evs {
			fn(e)
			since = e.Seq
		}
		if len(evs) < verifyPage {
			return nil
		}
	}
}

// chainWalk checks a log's events in seq order and links their digests.
type chainWalk struct {
	head [32]byte
	last int64
	out  Verified
}

func newChainWalk(id string) *chainWalk {
	return &chainWalk{head: ChainStart(id), out: Verified{OK: true}}
}

func (w *chainWalk) add(e Event) {
	digest := EventDigest(e)
	changed := e.Digest != "" && e.Digest != digest && !e.Erased
	if w.out.OK && (changed || e.Seq != w.last+1) {
		w.out.OK, w.out.FirstBadSeq = false, e.Seq
	}
	if e.Digest != "" {
		digest = e.Digest
	}
	w.head = ChainNext(w.head, digest)
	w.last = e.Seq
	w.out.Events++
}

func (w *chainWalk) result() Verified {
	v := w.out
	v.Head = hex.EncodeToString(w.head[:])
	return v
}
