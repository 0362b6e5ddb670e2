package rooms

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Export is a session's record, read and checked, ready to be written
// as a zip: what an auditor or the customer's bank keeps.
type Export struct {
	files    *FileService
	Session  *Session
	events   []Event
	verified Verified
	assets   []*Asset
	at       time.Time
	// agent and team name the session's agent and team for people.
	agent, team string
	// cert is the completion certificate as of the export, sealed.
	cert []byte
}

func (s *EvidenceService) exportOf(ctx context.Context, id string) (*Export, error) {
	sess, err := s.store.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	x := &Export{files: s.files, Session: sess, events: []Event{}, at: s.now(), agent: sess.AgentID, team: sess.TeamID}
	if ag, err := s.store.Agent(ctx, sess.AgentID); err == nil {
		x.agent = ag.Name + " <" + ag.Email + ">"
	}
	if t, err := s.store.Team(ctx, sess.TeamID); err == nil {
		x.team = t.Name
	}
	w := newChainWalk(id)
	err = s.eachEvent(ctx, id, func(e Event) {
		w.add(e)
		x.events = append(x.events, e)
	})
	if err != nil {
		return nil, err
	}
	x.verified = w.result()
	if as, err := s.files.assetStore(); err == nil {
		if x.assets, err = as.Assets(ctx, id); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// manifestEntry is one file of the record, as manifest.json lists it.
type manifestEntry struct {
	Path  string `json:"path,omitempty"`
	Asset *Asset `json:"asset"`
	// Missing says why the bytes are not in the zip.
	Missing string `json:"missing,omitempty"`
}

// WriteTo writes the zip: README.txt, session.json, events.json,
// transcript.txt, verify.json, manifest.json and files/. A file whose
// bytes cannot be read is listed as missing, with why.
func (x *Export) WriteTo(ctx context.Context, w io.Writer) error {
	z := zip.NewWriter(w)
	manifest := make([]manifestEntry, 0, len(x.assets))
	for _, a := range x.assets {
		entry := manifestEntry{Asset: a}
		if a.DeletedAt != nil {
			entry.Missing = "deleted by the retention sweep"
		} else if err := x.writeFile(ctx, z, a, &entry); err != nil {
			return err
		}
		manifest = append(manifest, entry)
	}
	for _, part := range []struct {
		name string
		v    any
	}{{"session.json", x.Session}, {"events.json", x.events}, {"verify.json", x.verified}, {"manifest.json", manifest}} {
		if err := writeJSONEntry(z, part.name, part.v, x.at); err != nil {
			return err
		}
	}
	for name, text := range map[string]string{"transcript.txt": x.transcript(), "README.txt": x.readme(),
		"completion-certificate.pdf": string(x.cert)} {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.at})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, text); err != nil {
			return err
		}
	}
	return z.Close()
}

func (x *Export) writeFile(ctx context.Context, z *zip.Writer, a *Asset, entry *manifestEntry) error {
	_, body, err := x.files.read(ctx, a.SessionID, a.ID)
	if err != nil {
		entry.Missing = "could not be read: " + err.Error()
		return nil
	}
	entry.Path = path.Join("files", a.Kind, a.ID+"-"+a.Name)
	f, err := z.CreateHeader(&zip.FileHeader{Name: entry.Path, Method: zip.Store, Modified: a.At})
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	return err
}

func writeJSONEntry(z *zip.Writer, name string, v any, at time.Time) error {
	f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: at})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// transcript is the chat as a person reads it.
func (x *Export) transcript() string {
	var b strings.Builder
	for _, e := range x.events {
		if e.Type != EventMessage || e.From == nil {
			continue
		}
		who := e.From.Name
		if who == "" {
			who = e.From.Role
		}
		fmt.Fprintf(&b, "[%s] #%d %s: %s\n", e.At.UTC().Format(time.RFC3339), e.Seq, who, e.Text)
	}
	return b.String()
}

func (x *Export) readme() string {
	verdict := "the log verified: every event matches its digest"
	if !x.verified.OK {
		verdict = fmt.Sprintf("the log did NOT verify: event %d no longer matches its digest", x.verified.FirstBadSeq)
	}
	return fmt.Sprintf(`The record of Cohub session %s, exported %s.

session.json    the session as it stands
events.json     its whole room log, in order; each event carries "digest",
                the SHA-256 of its content: its JSON as Cohub writes it
                (compact, fields in the order shown here) without "seq",
                "digest" and the sender's display name (from.name)
transcript.txt  the chat, as a person reads it
verify.json     the hash chain's verdict at export: %s;
                %d events, head %s
completion-certificate.pdf  what happened, each file's SHA-256 and the
                chain's head, as of the export; sealed like a signed copy
manifest.json   every file of the session with its record (for a signed
                copy, its signature record and seal), and where it is in
                this zip
files/          the files: documents sent to sign, signed copies, uploads,
                form answers

Checking a signed copy. Each signed copy is sealed with a digital signature
over the whole file. Any PDF reader shows it, or poppler's pdfsig:

    pdfsig files/signed/<file>.pdf

"Signature is Valid" and "Total document signed" mean the file is the one
Cohub sealed. Its SHA-256 is the record's "signed_sha256" in manifest.json.

Checking the log. Start from h0 = SHA-256("cohub session %s"); for each
event in seq order, check that the SHA-256 of its compact JSON (without
"seq", "digest" and from.name) is its "digest", and compute
hN = SHA-256(hN-1 as 32 bytes, followed by the digest's 64 hex characters).
The last hN is the head above; the same head later means the same log.
`, x.Session.ID, x.at.UTC().Format(time.RFC3339), verdict, x.verified.Events, x.verified.Head, x.Session.ID)
}
