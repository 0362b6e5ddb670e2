package pdfsign

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Sample writes a small valid PDF of pages A4 pages, each with the title
// and its page number: a document to sign in demos and tests, made here
// rather than shipped.
func Sample(title string, pages int) []byte { return sample(title, pages, nil) }

// SampleOfSize is Sample grown to about size bytes: each page's content
// carries incompressible comment lines, as a scanned contract weighs
// (benchmarks of signing big documents).
func SampleOfSize(title string, pages, size int) []byte {
	pages = max(pages, 1)
	noise := make([]byte, size/pages/2)
	return sample(title, pages, func() string {
		_, _ = rand.Read(noise)
		return "% " + hex.EncodeToString(noise) + "\n"
	})
}

// sample writes the document; pad, when set, gives text put ahead of
// each page's content.
func sample(title string, pages int, pad func() string) []byte {
	pages = max(pages, 1)
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	kids := make([]string, pages)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	for i := range pages {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		text := fmt.Sprintf("BT /F1 20 Tf 72 760 Td (%s) Tj /F1 11 Tf 0 -28 Td (Page %d of %d) Tj ET",
			escape(title), i+1, pages)
		if pad != nil {
			text = pad() + text
		}
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(text), text))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// escape makes text safe inside a PDF string literal; characters
// outside printable ASCII become "?".
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
