package rooms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// AssetCertificate is a session's completion certificate.
const AssetCertificate = "certificate"

// Certify makes the session's completion certificate, seals it like a
// signed copy, and keeps it among the session's files: for an agent who
// may open the room, at any time (each call a new one, as of now).
func (s *EvidenceService) Certify(ctx context.Context, a *Agent, id string) (*Asset, error) {
	if err := s.MayOpen(ctx, a, id); err != nil {
		return nil, err
	}
	return s.certify(ctx, id)
}

// certifyDone makes the certificate when the session's last task was
// completed. It does not fail the completion: an agent can make one
// again, and every export holds one.
func (s *EvidenceService) certifyDone(ctx context.Context, id string) {
	if _, err := s.certify(ctx, id); err != nil {
		s.logger(ctx).Warn().Err(err).Str("session", id).Msg("completion certificate not made")
	}
}

func (s *EvidenceService) certify(ctx context.Context, id string) (*Asset, error) {
	x, err := s.exportOf(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	doc, err := x.certificate(now)
	if err != nil {
		return nil, fmt.Errorf("%w: the certificate could not be written: %v", ErrUnavailable, err)
	}
	sealed, seal, err := s.files.seal(doc, "Cohub", now)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(sealed)
	c := &Asset{SessionID: id, Kind: AssetCertificate, Name: "completion-certificate.pdf", Type: TypePDF,
		By: Actor{Role: "system", Name: "Cohub"},
		Audit: &SignatureAudit{Signer: "Cohub", Method: "certificate", At: assetTime(now), SessionID: id,
			SignedSHA256: hex.EncodeToString(sum[:]), Seal: seal}}
	if err := s.files.keep(ctx, c, sealed); err != nil {
		return nil, err
	}
	return c, nil
}

// certificate writes the completion certificate: what happened in the
// session, each file's SHA-256, and the record's chain head.
func (x *Export) certificate(now time.Time) ([]byte, error) {
	p := fpdf.New("P", "mm", "A4", "")
	tr := p.UnicodeTranslatorFromDescriptor("")
	p.SetTitle("Completion certificate "+x.Session.ID, true)
	p.SetMargins(18, 18, 18)
	p.AddPage()
	p.SetFont("Helvetica", "B", 18)
	p.CellFormat(0, 10, "Completion certificate", "", 1, "", false, 0, "")
	p.SetFont("Helvetica", "", 10)
	p.MultiCell(0, 5, tr(fmt.Sprintf("Made by Cohub on %s (UTC) from the session's record. This document is sealed with a digital signature: any PDF reader can show that it is intact.", now.UTC().Format("2 January 2006 15:04:05"))), "", "", false)
	s := x.Session
	section(p, tr, "Session", [][2]string{
		{"Session", s.ID}, {"State", s.State}, {"Agent", x.agent}, {"Team", x.team},
		{"Customer", maskName(s.Customer.Name)}, {"Contact", maskContact(s.Customer)},
		{"Created", stamp(s.CreatedAt)}, {"Ended", stampPtr(s.EndedAt)},
	})
	section(p, tr, "Checks the customer passed", x.gateRows())
	section(p, tr, "Tasks", x.taskRows())
	section(p, tr, "Files (SHA-256)", x.fileRows())
	transcript := sha256.Sum256([]byte(x.transcript()))
	section(p, tr, "The record", [][2]string{
		{"Events", fmt.Sprint(x.verified.Events)},
		{"Verified", map[bool]string{true: "yes: every event matches its digest", false: fmt.Sprintf("NO: event %d was changed", x.verified.FirstBadSeq)}[x.verified.OK]},
		{"Chain head", x.verified.Head},
		{"Transcript SHA-256", hex.EncodeToString(transcript[:])},
	})
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func section(p *fpdf.Fpdf, tr func(string) string, title string, rows [][2]string) {
	p.Ln(4)
	p.SetFont("Helvetica", "B", 12)
	p.CellFormat(0, 8, tr(title), "B", 1, "", false, 0, "")
	if len(rows) == 0 {
		p.SetFont("Helvetica", "I", 9)
		p.CellFormat(0, 6, "None.", "", 1, "", false, 0, "")
		return
	}
	for _, r := range rows {
		p.SetFont("Helvetica", "B", 9)
		p.CellFormat(45, 5, tr(r[0]), "", 0, "", false, 0, "")
		p.SetFont("Helvetica", "", 9)
		p.MultiCell(0, 5, tr(r[1]), "", "", false)
	}
}

func (x *Export) gateRows() [][2]string {
	var rows [][2]string
	for _, e := range x.events {
		switch e.Type {
		case EventAuthChanged:
			rows = append(rows, [2]string{"Identity", fmt.Sprintf("%s at %s", e.Auth, stamp(e.At))})
		case EventConsentChanged:
			rows = append(rows, [2]string{"Consent", fmt.Sprintf("%s at %s", e.Consent, stamp(e.At))})
		}
	}
	for _, a := range x.assets {
		if a.Audit != nil && a.Kind == AssetSigned {
			rows = append(rows, [2]string{"Signed from", fmt.Sprintf("%s (%s)", networkOf(a.Audit.IP), a.Audit.UserAgent)})
		}
	}
	return rows
}

func (x *Export) taskRows() [][2]string {
	var rows [][2]string
	for _, t := range x.Session.Tasks {
		rows = append(rows, [2]string{t.Kind + ": " + t.Title, t.Status})
	}
	return rows
}

func (x *Export) fileRows() [][2]string {
	var rows [][2]string
	for _, a := range x.assets {
		if a.Kind == AssetCertificate {
			continue
		}
		line := a.SHA256
		if a.Audit != nil && a.Audit.OriginalSHA256 != "" {
			line = "original " + a.Audit.OriginalSHA256 + "\nsigned " + a.Audit.SignedSHA256
			if a.Audit.Seal != nil && a.Audit.Seal.Timestamp != nil {
				line += "\nsealed by " + a.Audit.Seal.Signer + ", timestamped " + stamp(*a.Audit.Seal.Timestamp)
			}
		}
		rows = append(rows, [2]string{a.Kind + ": " + a.Name, line})
	}
	return rows
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func stampPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(*t)
}

// maskName keeps a name's first letters: the certificate travels.
func maskName(name string) string {
	var parts []string
	for _, w := range strings.Fields(name) {
		r := []rune(w)
		parts = append(parts, string(r[0])+strings.Repeat("*", len(r)-1))
	}
	return strings.Join(parts, " ")
}

func maskContact(c Customer) string {
	var out []string
	if c.Email != "" {
		user, domain, _ := strings.Cut(c.Email, "@")
		out = append(out, maskName(user)+"@"+domain)
	}
	if len(c.Phone) > 4 {
		out = append(out, strings.Repeat("*", len(c.Phone)-4)+c.Phone[len(c.Phone)-4:])
	}
	return strings.Join(out, ", ")
}

// networkOf is an address's network, not the address: /24 or /64.
func networkOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "-"
	}
	bits := 64
	if a = a.Unmap(); a.Is4() {
		bits = 24
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return "-"
	}
	return p.String()
}

// Export gathers the record of a session an agent may open: the session,
// its whole log with the chain's verdict, and its files' records. The
// files' bytes are read as the zip is written.
func (s *EvidenceService) Export(ctx context.Context, a *Agent, id string) (*Export, error) {
	if err := s.MayOpen(ctx, a, id); err != nil {
		return nil, err
	}
	x, err := s.exportOf(ctx, id)
	if err != nil {
		return nil, err
	}
	doc, err := x.certificate(x.at)
	if err != nil {
		return nil, fmt.Errorf("%w: the certificate could not be written: %v", ErrUnavailable, err)
	}
	if x.cert, _, err = s.files.seal(doc, "Cohub", x.at); err != nil {
		return nil, err
	}
	return x, nil
}

// SigningIdentity is who signed copies are sealed as, for the admin.
func (s *EvidenceService) SigningIdentity() (SigningIdentity, error) {
	sealer, err := s.files.sealer()
	if err != nil {
		return SigningIdentity{}, err
	}
	return SigningIdentity{About: sealer.Identity().About(), Timestamps: sealer.Timestamps()}, nil
}
