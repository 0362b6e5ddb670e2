package pdfsign_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/pdfsign/sealtest"
)

// bigDocument is a PDF of pages pages and about size bytes: each page's
// content carries incompressible comment lines, as scanned or
// image-heavy contracts weigh.
func bigDocument(pages, size int) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.7\n")
	kids := make([]string, pages)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	noise := make([]byte, size/pages/2)
	for i := range pages {
		_, _ = rand.Read(noise)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		text := fmt.Sprintf("%% %s\nBT /F1 20 Tf 72 760 Td (Contract page %d) Tj ET", hex.EncodeToString(noise), i+1)
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

// BenchmarkSeal seals a 20-page, 2 MB document, without and with a
// timestamp (the TSA in the test process, on loopback): the time of one
// seal at p50 and p99, and the memory one takes.
func BenchmarkSeal(b *testing.B) {
	doc := bigDocument(20, 2<<20)
	for _, stamped := range []bool{false, true} {
		name := "no-timestamp"
		opts := pdfsign.SealOptions{}
		if stamped {
			name, opts.TSA = "timestamp", sealtest.StartTSA(b).URL
		}
		b.Run(name, func(b *testing.B) {
			id, err := pdfsign.DerivedIdentity([]byte(testSecret))
			if err != nil {
				b.Fatal(err)
			}
			s, err := pdfsign.NewSealer(id, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				out, err := s.Seal(doc, "Dana Signer", time.Now())
				if err != nil || (stamped && out.Timestamp == nil) {
					b.Fatalf("seal: %v, timestamp %v", err, out.Timestamp)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
