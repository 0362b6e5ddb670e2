package pdfsign

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/fault"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Active content is what a desktop reader runs or opens by itself, or
// when someone clicks: JavaScript, launching a program, submitting or
// importing form data, opening another or an embedded file, playing
// media. A document that passes through Cohub (and is later opened by
// an agent, or a customer) keeps none of it.

// catalogKeys are the catalog entries Clean removes. /OpenAction goes
// even when it is a plain destination (where the document opens):
// telling a destination from an action is not worth a path by which
// code could run, and the document still opens, at its first page.
// /AA runs actions when the document is closed, saved or printed. /AF
// and /Collection attach and show embedded files.
var catalogKeys = []string{"OpenAction", "AA", "AF", "Collection"}

// nameTrees are the /Names trees Clean removes: document-level scripts,
// and embedded files.
var nameTrees = []string{"JavaScript", "EmbeddedFiles"}

// pageKeys are the page entries Clean removes: actions run when a page
// opens or closes, and files attached to the page.
var pageKeys = []string{"AA", "AF"}

// droppedAnnots are annotations Clean removes whole: they exist to
// carry a file, or content (Flash, 3D with its own JavaScript) that
// runs.
var droppedAnnots = map[string]bool{"FileAttachment": true, "RichMedia": true, "3D": true}

// webSchemes are the URI schemes a kept link may open.
var webSchemes = map[string]bool{"http": true, "https": true, "mailto": true}

// maxDepth bounds the walks down a form's fields and a document's
// bookmarks, which a hostile document may make deep or circular.
const maxDepth = 32

// Clean returns pdf with its active content removed: the catalog's
// /OpenAction and /AA, the /JavaScript and /EmbeddedFiles name trees,
// every page's /AA, annotations' and form fields' /AA, and their /A
// unless it goes to a place in the document (GoTo) or opens a web
// address (URI), file attachment annotations, and the form's XFA. It
// refuses what Check refuses, within the same limits. A document with
// nothing to remove is returned as it came, byte for byte: the file
// kept is then the very file its sender has, hash and all.
func Clean(pdf []byte) ([]byte, error) {
	out, _, err := clean(pdf)
	return out, err
}

// clean is Clean, also returning the page count.
func clean(pdf []byte) ([]byte, int, error) {
	ctx, err := read(pdf)
	if err != nil {
		return nil, 0, err
	}
	s := &stripper{ctx: ctx}
	if err := s.strip(); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	if s.removed == 0 {
		return pdf, ctx.PageCount, nil
	}
	var out bytes.Buffer
	if err := write(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("clean: %w", err)
	}
	return out.Bytes(), ctx.PageCount, nil
}

// stripper removes active content from a document's objects and counts
// what it removed.
type stripper struct {
	ctx     *model.Context
	removed int
}

// drop deletes d's keys, counting those that were there.
func (s *stripper) drop(d types.Dict, keys ...string) {
	for _, k := range keys {
		if _, ok := d.Find(k); ok {
			d.Delete(k)
			s.removed++
		}
	}
}

// write is api.WriteContext, with pdfcpu's panics turned into errors.
// Only objects reachable from the catalog are written, so what strip
// cut loose is gone from the copy.
func write(ctx *model.Context, out *bytes.Buffer) (err error) {
	defer fault.Catch(&err)
	return api.WriteContext(ctx, out)
}

// strip removes active content from ctx's objects. What it cuts loose
// (an /OpenAction's script, an embedded file) stays in ctx but is no
// longer reachable from the catalog.
func (s *stripper) strip() (err error) {
	defer fault.Catch(&err)
	root := s.ctx.RootDict
	for _, k := range catalogKeys {
		s.drop(root, k)
	}
	s.stripNames(root)
	for i := 1; i <= s.ctx.PageCount; i++ {
		if err := s.stripPage(i); err != nil {
			return err
		}
	}
	s.stripOutlines(root)
	s.stripForm(root)
	return nil
}

func (s *stripper) stripNames(root types.Dict) {
	o, ok := root.Find("Names")
	if !ok {
		return
	}
	names, err := s.ctx.DereferenceDict(o)
	if err != nil || names == nil {
		s.drop(root, "Names")
		return
	}
	for _, k := range nameTrees {
		s.drop(names, k)
		// pdfcpu writes its own copy of each name tree back on write.
		delete(s.ctx.Names, k)
	}
	if names.Len() == 0 {
		s.drop(root, "Names")
	}
}

func (s *stripper) stripPage(nr int) error {
	page, _, _, err := s.ctx.PageDict(nr, false)
	if err != nil || page == nil {
		return fmt.Errorf("page %d: %v", nr, err)
	}
	for _, k := range pageKeys {
		s.drop(page, k)
	}
	o, ok := page.Find("Annots")
	if !ok {
		return nil
	}
	annots, err := s.ctx.DereferenceArray(o)
	if err != nil {
		s.drop(page, "Annots")
		return nil
	}
	page["Annots"] = s.keptAnnots(annots)
	return nil
}

// keptAnnots is annots without those Clean drops whole, and with the
// others' actions stripped. The page gets the new array directly,
// which also leaves a shared /Annots array of another page untouched.
func (s *stripper) keptAnnots(annots types.Array) types.Array {
	kept := types.Array{}
	for _, o := range annots {
		a, err := s.ctx.DereferenceDict(o)
		if err != nil || a == nil {
			s.removed++
			continue
		}
		if sub := a.Subtype(); sub != nil && droppedAnnots[*sub] {
			s.removed++
			continue
		}
		s.stripActions(a)
		// A widget's field, which may not be listed in the form, acts
		// for it too.
		s.walk(a["Parent"], "Parent", map[int]bool{}, func(d types.Dict) { s.stripActions(d) })
		kept = append(kept, o)
	}
	return kept
}

// stripActions removes d's /AA, and its /A unless that is safe.
func (s *stripper) stripActions(d types.Dict) {
	s.drop(d, "AA")
	o, ok := d.Find("A")
	if !ok {
		return
	}
	a, err := s.ctx.DereferenceDict(o)
	if err != nil || a == nil || !s.safeAction(a) {
		s.drop(d, "A")
		return
	}
	// A safe action may chain to any other through /Next.
	s.drop(a, "Next")
}

// safeAction reports whether a only moves within the document or opens
// a web address. Everything else goes, the types in the finding
// (JavaScript, Launch, SubmitForm, ImportData, ResetForm, GoToE, GoToR,
// Rendition, Sound, Movie, RichMediaExecute) and any newer one.
func (s *stripper) safeAction(a types.Dict) bool {
	switch kind := a.NameEntry("S"); {
	case kind == nil:
		return false
	case *kind == "GoTo":
		return true
	case *kind == "URI":
		return s.webAddress(a)
	}
	return false
}

// webAddress reports whether a URI action's address is a web or mail
// address: not file:, javascript: and the like, nor an address without
// a scheme, which a reader resolves against a base the document sets.
func (s *stripper) webAddress(a types.Dict) bool {
	o, ok := a.Find("URI")
	if !ok {
		return false
	}
	addr, err := s.ctx.DereferenceStringOrHexLiteral(o, model.V10, nil)
	if err != nil {
		return false
	}
	u, err := url.Parse(strings.TrimSpace(addr))
	return err == nil && webSchemes[strings.ToLower(u.Scheme)]
}

// stripOutlines strips the actions of the bookmarks: clicking one may
// run anything a link may.
func (s *stripper) stripOutlines(root types.Dict) {
	outlines, err := s.ctx.DereferenceDict(root["Outlines"])
	if err != nil || outlines == nil {
		return
	}
	s.stripItems(outlines["First"], map[int]bool{}, 0)
}

// stripItems strips the bookmark o, the ones after it and, below
// maxDepth, their children.
func (s *stripper) stripItems(o types.Object, seen map[int]bool, depth int) {
	if depth == maxDepth {
		return
	}
	s.walk(o, "Next", seen, func(d types.Dict) {
		s.stripActions(d)
		s.stripItems(d["First"], seen, depth+1)
	})
}

// stripForm removes the form's XFA (an XML form that may carry
// scripts) and the actions of its fields. Widgets shown on pages are
// stripped with the pages' annotations; fields are walked too because
// a field and its widgets are often different dictionaries.
func (s *stripper) stripForm(root types.Dict) {
	o, ok := root.Find("AcroForm")
	if !ok {
		return
	}
	form, err := s.ctx.DereferenceDict(o)
	if err != nil || form == nil {
		s.drop(root, "AcroForm")
		return
	}
	s.drop(form, "XFA")
	fields, _ := s.ctx.DereferenceArray(form["Fields"])
	seen := map[int]bool{}
	for _, f := range fields {
		s.stripField(f, seen, 0)
	}
}

func (s *stripper) stripField(o types.Object, seen map[int]bool, depth int) {
	f, err := s.ctx.DereferenceDict(o)
	if err != nil || f == nil || depth == maxDepth || visited(o, seen) {
		return
	}
	s.stripActions(f)
	kids, _ := s.ctx.DereferenceArray(f["Kids"])
	for _, k := range kids {
		s.stripField(k, seen, depth+1)
	}
}

// walk calls f on o's dictionary and each one after it along key,
// stopping at one it has seen.
func (s *stripper) walk(o types.Object, key string, seen map[int]bool, f func(types.Dict)) {
	for o != nil {
		d, err := s.ctx.DereferenceDict(o)
		if err != nil || d == nil || visited(o, seen) {
			return
		}
		f(d)
		o = d[key]
	}
}

// visited reports whether o is a reference seen before, and notes it.
func visited(o types.Object, seen map[int]bool) bool {
	ref, ok := o.(types.IndirectRef)
	if !ok {
		return false
	}
	nr := ref.ObjectNumber.Value()
	if seen[nr] {
		return true
	}
	seen[nr] = true
	return false
}
