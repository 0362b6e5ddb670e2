package pdfsign

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cohub/cohub/internal/hostile"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func TestZlibOfInflates(t *testing.T) {
	for _, prefix := range []string{"", "endstream\n"} {
		zr, err := zlib.NewReader(bytes.NewReader(zlibOf([]byte(prefix), 3)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil || len(b) != len(prefix)+3<<20 || !bytes.HasPrefix(b, []byte(prefix)) {
			t.Fatalf("prefix %q: inflated %d bytes, err %v", prefix, len(b), err)
		}
	}
}

var allocated = hostile.Allocated

// operations are the ways into pdfsign that read a document.
var operations = map[string]func([]byte) error{
	"Check": func(b []byte) error { _, err := Check(b); return err },
	"Clean": func(b []byte) error { _, err := Clean(b); return err },
	"Sign":  func(b []byte) error { _, err := Sign(b, Stamp{Name: "Cara"}); return err },
}

// refusedWithin checks that each named operation refuses pdf as
// ErrNotPDF, allocating under maxMiB. All three share one read path,
// so most tests try Check alone: inflating to the budget is slow under
// -race.
func refusedWithin(t *testing.T, pdf []byte, maxMiB uint64, ops ...string) {
	t.Helper()
	for _, name := range ops {
		var err error
		got := allocated(func() { err = operations[name](pdf) })
		if !errors.Is(err, ErrNotPDF) {
			t.Errorf("%s: err %v, want ErrNotPDF", name, err)
		}
		if got > maxMiB<<20 {
			t.Errorf("%s allocated %d MiB, want under %d", name, got>>20, maxMiB)
		}
	}
}

// A 500 KB document whose one page inflates to 500 MiB took pdfcpu
// 2 GB and many seconds to check.
func TestDecompressionBombIsRefused(t *testing.T) {
	refusedWithin(t, bombPDF(500), 100, "Check", "Clean", "Sign")
}

// Many streams, each under pdfcpu's limit for one stream, must not add
// up past the budget for the whole file; scan alone refuses them.
func TestManyStreamsThatAddUpAreRefused(t *testing.T) {
	pdf := pageOfStreams(5, "/Filter /FlateDecode", zlibZeros(30))
	refusedWithin(t, pdf, 100, "Check")
	if err := scan(pdf); !errors.Is(err, ErrNotPDF) {
		t.Fatalf("scan: err %v, want ErrNotPDF", err)
	}
}

// The content of the page Sign stamps, which pdfcpu decodes whole and
// without its limits, must fit in MaxStreamDecoded, however it is
// encoded or split; it is measured in constant memory (content that is
// not encoded at all costs what pdfcpu reads of the file).
func TestStampedContentIsMeasured(t *testing.T) {
	for _, c := range []struct {
		name   string
		pdf    []byte
		maxMiB uint64
	}{
		{"flate", pageOfStreams(1, "/Filter /FlateDecode", zlibZeros(20)), 10},
		{"hex and flate", pageOfStreams(1, "/Filter [/ASCIIHexDecode /FlateDecode]", []byte(hex.EncodeToString(zlibZeros(20))+">")), 10},
		{"flate twice", pageOfStreams(1, "/Filter [/FlateDecode /FlateDecode]", deflate(zlibZeros(20))), 10},
		{"split", pageOfStreams(2, "/Filter /FlateDecode", zlibZeros(10)), 10},
		{"as an image", pageOfStreams(1, "/Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode", zlibZeros(20)), 10},
		{"not encoded", pageOfStreams(5, "", make([]byte, 4<<20)), 30},
	} {
		t.Run(c.name, func(t *testing.T) { refusedWithin(t, c.pdf, c.maxMiB, "Check") })
	}
}

// Validating the catalog's metadata costs pdfcpu five times its size;
// more than MaxMetadata is refused before it does.
func TestLargeMetadataIsRefused(t *testing.T) {
	pdf := rawPDF(
		"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
		streamObj("/Type /Metadata /Subtype /XML /Filter /FlateDecode", zlibZeros(MaxMetadata>>20+2)),
	)
	refusedWithin(t, pdf, 10, "Check")
}

// pdfcpu decodes, without its limits, only the streams read measures:
// the catalog's metadata and the stamped page's content. A stream that
// inflates to 20 MiB anywhere else costs Sign (which reads, cleans,
// validates, writes and stamps) less than that: pdfcpu never decodes
// it. If a new pdfcpu decodes more, this fails.
func TestOnlyMeasuredStreamsAreDecoded(t *testing.T) {
	font := "<< /Type /Font /Subtype /TrueType /BaseFont /Foo /FirstChar 32 /LastChar 32 /Widths [500]" +
		" /FontDescriptor << /Type /FontDescriptor /FontName /Foo /Flags 32 /FontBBox [0 0 1 1] /ItalicAngle 0" +
		" /Ascent 1 /Descent 0 /CapHeight 1 /StemV 1 /FontFile2 5 0 R >> >>"
	form := "/Type /XObject /Subtype /Form /BBox [0 0 10 10]"
	for _, c := range []struct {
		role, big, page, obj6, catalog string
		refused                        bool
	}{
		{"page content", "", "/Contents 5 0 R", "<< >>", "", true},
		{"catalog metadata", "/Type /Metadata /Subtype /XML", "", "<< >>", "/Metadata 5 0 R", true},
		{"page metadata", "/Type /Metadata /Subtype /XML", "/Metadata 5 0 R", "<< >>", "", false},
		{"form", form, "/Resources << /XObject << /X 5 0 R >> >>", "<< >>", "", false},
		{"image", "/Type /XObject /Subtype /Image /Width 5000 /Height 4000 /BitsPerComponent 8 /ColorSpace /DeviceGray", "/Resources << /XObject << /X 5 0 R >> >>", "<< >>", "", false},
		{"font file", "/Length1 100", "/Resources << /Font << /F1 6 0 R >> >>", font, "", false},
		{"ToUnicode", "", "/Resources << /Font << /F1 6 0 R >> >>", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 5 0 R >>", "", false},
		{"ICC profile", "/N 3", "/Resources << /ColorSpace << /CS0 [/ICCBased 5 0 R] >> >>", "<< >>", "", false},
		{"appearance", form, "/Annots [6 0 R]", "<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /AP << /N 5 0 R >> >>", "", false},
		{"function", "/FunctionType 4 /Domain [0 1] /Range [0 1]", "/Resources << /Shading << /Sh 6 0 R >> >>", "<< /ShadingType 2 /ColorSpace /DeviceGray /Coords [0 0 1 1] /Function 5 0 R >>", "", false},
		{"unused", "", "", "<< >>", "", false},
		// obj 6 is then a last page, which Sign stamps: the content of the others is left alone.
		{"other page's content", "", "/Contents 5 0 R", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>", "", false},
	} {
		t.Run(c.role, func(t *testing.T) {
			page := c.page
			if !strings.Contains(page, "/Contents") {
				page += " /Contents 4 0 R"
			}
			kids := "[3 0 R] /Count 1"
			if strings.Contains(c.obj6, "/Page ") {
				kids = "[3 0 R 6 0 R] /Count 2"
			}
			pdf := rawPDF(
				"<< /Type /Catalog /Pages 2 0 R "+c.catalog+" >>",
				"<< /Type /Pages /Kids "+kids+" >>",
				"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "+page+" >>",
				streamObj("", []byte("0 0 m 10 10 l S")),
				streamObj("/Filter /FlateDecode "+c.big, zlibZeros(20)),
				c.obj6,
			)
			var err error
			got := allocated(func() { _, err = Sign(pdf, Stamp{Name: "Cara"}) })
			if c.refused != errors.Is(err, ErrNotPDF) || !c.refused && err != nil {
				t.Errorf("err %v, want refused %v", err, c.refused)
			}
			if got >= 20<<20 {
				t.Errorf("Sign allocated %d MiB: pdfcpu decoded the stream", got>>20)
			}
		})
	}
}

// Pipelines the meter cannot stream (here run length) are decoded by
// pdfcpu, once, within the budget.
func TestOtherPipelinesAreCounted(t *testing.T) {
	// 128 bytes of zeros a run: 257-128 = 129 is a run of 128.
	runs := bytes.Repeat([]byte{129, 0}, 11<<20/128)
	sd := types.StreamDict{Dict: types.NewDict(), Raw: runs, FilterPipeline: []types.PDFFilter{{Name: filter.RunLength}}}
	if err := newMeter(10 << 20).decode(&sd); !errors.Is(err, ErrNotPDF) {
		t.Errorf("11 MiB in a budget of 10: err %v, want ErrNotPDF", err)
	}
	if err := newMeter(12 << 20).decode(&sd); err != nil {
		t.Errorf("11 MiB in a budget of 12: err %v", err)
	}
}

// Ordinary content in hex around Flate, as some old writers made it,
// still passes.
func TestWrappedStreamsPass(t *testing.T) {
	data := []byte(hex.EncodeToString(deflate([]byte("72 72 m 300 300 l S"))) + ">")
	if n, err := Check(pageOfStreams(2, "/Filter [/ASCIIHexDecode /FlateDecode]", data)); err != nil || n != 1 {
		t.Fatalf("pages %d, err %v", n, err)
	}
}

// The scan reads zlib data to its end, not to the first "endstream"
// in it, nor as far as /Length says.
func TestScanCountsPastAFalseEnd(t *testing.T) {
	pdf := rawPDF("<< /Length 12 >>\nstream\n" + string(zlibOf([]byte("endstream\n"), 200)) + "\nendstream")
	if err := scan(pdf); !errors.Is(err, ErrNotPDF) {
		t.Fatalf("err %v, want ErrNotPDF", err)
	}
}

// pdfcpu opens an encrypted document that has no user password and
// inflates its streams, which the scan cannot see into; pdfsign
// refuses encrypted documents, as ErrNotPDF always said.
func TestEncryptedIsRefused(t *testing.T) {
	conf := model.NewAESConfiguration("", "owner", 256)
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(Sample("Offer", 1)), &out, conf); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, out.Bytes(), 100, "Check", "Clean", "Sign")
	// The trailer's name spelt with an escape is the same name to pdfcpu.
	if !encrypted([]byte("trailer << /Encr#79pt 5 0 R >>")) || encrypted([]byte("<< /Encrypted true /Encryp /X >>")) {
		t.Fatal("encrypted does not read names as pdfcpu does")
	}
}

// A 20-page document of about 2 MB, its pages drawn in compressed
// content streams, is checked, cleaned and signed as before.
func TestOrdinaryLargeDocumentPasses(t *testing.T) {
	doc := twentyPages()
	if len(doc) < 2<<20 {
		t.Fatalf("document is %d bytes, want 2 MB", len(doc))
	}
	if n, err := Check(doc); err != nil || n != 20 {
		t.Fatalf("check: pages %d, err %v", n, err)
	}
	if _, err := Sign(doc, Stamp{Name: "Cara", SessionID: "s_1"}); err != nil {
		t.Fatal(err)
	}
}

// twentyPages is a 20-page PDF of about 2.4 MB: each page draws 16000
// short random lines (120 KB compressed, 600 KB inflated).
func twentyPages() []byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	pages := make([][]byte, 20)
	for i := range pages {
		var b bytes.Buffer
		for range 16000 {
			x, y := rnd.IntN(595), rnd.IntN(842)
			fmt.Fprintf(&b, "%d %d m %d %d l S\n", x, y, x+rnd.IntN(20), y+rnd.IntN(20))
		}
		b.WriteString("BT /F1 11 Tf 72 40 Td (Page " + strconv.Itoa(i+1) + " of 20) Tj ET\n")
		pages[i] = b.Bytes()
	}
	return flatePages(pages...)
}

func BenchmarkCheckBomb(b *testing.B) {
	bomb := bombPDF(500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(bomb); !errors.Is(err, ErrNotPDF) {
			b.Fatalf("err %v, want ErrNotPDF", err)
		}
	}
}
