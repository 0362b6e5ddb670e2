// Package pdfsign makes a signed copy of a PDF: the original with a
// signature block (the drawn signature or the typed name, the signer's
// name, the time and the session) stamped on its last page. It checks
// that a document is a PDF it can stamp before anyone is asked to sign.
package pdfsign

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func init() {
	// pdfcpu would otherwise write a configuration directory under the
	// user's home on first use; a server keeps none.
	api.DisableConfigDir()
}

// ErrNotPDF says the bytes are not a PDF that can be read and stamped
// (not a PDF at all, cut short, damaged, or encrypted).
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
	return c
}

// Check reports ErrNotPDF unless pdf is a readable PDF, and returns its
// page count.
func Check(pdf []byte) (int, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return 0, ErrNotPDF
	}
	if err := api.Validate(bytes.NewReader(pdf), config()); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	n, err := api.PageCount(bytes.NewReader(pdf), config())
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: no pages", ErrNotPDF)
	}
	if n > MaxPages {
		return 0, fmt.Errorf("%w: more than %d pages", ErrNotPDF, MaxPages)
	}
	return n, nil
}

// Sign returns the original with the signature block on its last page.
func Sign(pdf []byte, st Stamp) ([]byte, error) {
	n, err := Check(pdf)
	if err != nil {
		return nil, err
	}
	last := []string{fmt.Sprint(n)}
	out := pdf
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
