// Package pdfsign makes a signed copy of a PDF: the original with a
// signature block (the drawn signature or the typed name, the signer's
// name, the time and the session) stamped on its last page. It checks
// that a document is a PDF it can stamp before anyone is asked to sign.
//
// Documents come from customers and agents, so pdfsign trusts none of
// them. It bounds the memory one document may take (limits.go: a
// small file must not inflate into gigabytes), and it strips active
// content (clean.go: JavaScript, launch actions, embedded files) that
// a desktop reader would run or open, from the signed copy and from
// any document given to Clean.
package pdfsign

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/fault"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func init() {
	// pdfcpu would otherwise write a configuration directory under the
	// user's home on first use; a server keeps none.
	api.DisableConfigDir()
}

// ErrNotPDF says the bytes are not a PDF that can be read and stamped
// (not a PDF at all, cut short, damaged, encrypted, or too large once
// decompressed).
var ErrNotPDF = errors.New("not a readable PDF document")

// MaxPages bounds a document to sign: reading it page by page on a
// phone, and stamping it, stay quick.
const MaxPages = 500

// Stamp is what the signature block shows.
type Stamp struct {
	Name string
	// Signature is the drawn signature as a PNG; nil when the signer
	// typed their name.
	Signature []byte
	At        time.Time
	SessionID string
}

func config() *model.Configuration {
	c := model.NewDefaultConfiguration()
	c.ValidationMode = model.ValidationRelaxed
	c.Limits = limits()
	return c
}

// Check reports ErrNotPDF unless pdf is a readable PDF, and returns its
// page count.
func Check(pdf []byte) (int, error) {
	ctx, err := read(pdf)
	if err != nil {
		return 0, err
	}
	return ctx.PageCount, nil
}

// read parses and validates pdf within the limits of limits.go: scan
// measures the file before pdfcpu reads it; the streams pdfcpu decodes
// without limits, the catalog's metadata when validating and the last
// page's content when stamping, are measured before it does.
func read(pdf []byte) (*model.Context, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, ErrNotPDF
	}
	if err := scan(pdf); err != nil {
		return nil, err
	}
	ctx, err := api.ReadContext(bytes.NewReader(pdf), config())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	m := newMeter(MaxMetadata)
	if err := m.measure(metadata(ctx)); err != nil {
		return nil, err
	}
	m.left += MaxStreamDecoded - MaxMetadata // the rest is the content's
	if err := validate(ctx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	if err := checkPages(ctx); err != nil {
		return nil, err
	}
	content, err := lastContent(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: last page: %v", ErrNotPDF, err)
	}
	if err := m.measure(content); err != nil {
		return nil, err
	}
	return ctx, nil
}

func checkPages(ctx *model.Context) error {
	if ctx.PageCount < 1 {
		return fmt.Errorf("%w: no pages", ErrNotPDF)
	}
	if ctx.PageCount > MaxPages {
		return fmt.Errorf("%w: more than %d pages", ErrNotPDF, MaxPages)
	}
	return nil
}

// validate is api.ValidateContext, with pdfcpu's panics on some
// damaged documents turned into errors as pdfcpu's own api does.
func validate(ctx *model.Context) (err error) {
	defer fault.Catch(&err)
	return api.ValidateContext(ctx)
}

// Sign returns the original, cleaned of active content (see Clean),
// with the signature block on its last page.
func Sign(pdf []byte, st Stamp) ([]byte, error) {
	out, n, err := clean(pdf)
	if err != nil {
		return nil, err
	}
	last := []string{fmt.Sprint(n)}
	if len(st.Signature) > 0 {
		wm, err := api.ImageWatermarkForReader(bytes.NewReader(st.Signature),
			"position:bl, offset:48 96, scalefactor:0.3 rel, rotation:0, opacity:1", true, false, types.POINTS)
		if err != nil {
			return nil, fmt.Errorf("signature image: %w", err)
		}
		if out, err = stamp(out, last, wm); err != nil {
			return nil, err
		}
	}
	wm, err := api.TextWatermark(blockText(st),
		"fontname:Helvetica, points:9, position:bl, offset:48 40, scalefactor:1 abs, rotation:0, opacity:1, fillcolor:#1A1A1A, margins:6, border:1 #555555, bgcolor:#FFFFFF",
		true, false, types.POINTS)
	if err != nil {
		return nil, fmt.Errorf("signature block: %w", err)
	}
	return stamp(out, last, wm)
}

func stamp(pdf []byte, pages []string, wm *model.Watermark) ([]byte, error) {
	var out bytes.Buffer
	if err := api.AddWatermarks(bytes.NewReader(pdf), &out, pages, wm, config()); err != nil {
		return nil, fmt.Errorf("stamp: %w", err)
	}
	return out.Bytes(), nil
}

// blockText is the signature block's lines. Helvetica has Latin
// letters only: other characters show as "?", while the audit record
// keeps the name exactly.
func blockText(st Stamp) string {
	how := "Signed electronically by"
	if len(st.Signature) == 0 {
		how = "Signed electronically (typed name) by"
	}
	return strings.Join([]string{
		how + " " + latin(st.Name),
		"on " + st.At.UTC().Format("2 January 2006 at 15:04:05 UTC"),
		"Session " + st.SessionID,
	}, "\n")
}

func latin(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || (r > 0x7e && r < 0xa0) || r > 0xff {
			return '?'
		}
		return r
	}, s)
}
