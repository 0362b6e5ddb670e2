package pdfsign

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// What one PDF may cost. pdfcpu holds a whole document in memory, and
// a small file whose streams inflate a thousandfold (a "decompression
// bomb") would otherwise take gigabytes and seconds of a server's
// time. These keep one document to about 64 MB while it is checked,
// cleaned or stamped.
//
// Checking, cleaning and stamping, pdfcpu decodes only a few streams:
// the catalog's metadata (to validate it) and the content of the page
// it stamps (TestOnlyMeasuredStreamsAreDecoded keeps that true), and
// those with pdfcpu's default limit of 512 MiB, not with the limits
// of its configuration. So pdfsign measures them itself.
const (
	// MaxStreamDecoded bounds what pdfcpu decodes of one document: the
	// catalog's metadata and the last page's content together, and
	// (through pdfcpu's own limits) any stream it decodes while
	// reading. Stamping a page holds its content about four times
	// over (a growing buffer, then copies): 16 MiB of content is about
	// 64 MB. A page's text and drawing is rarely over a few MB.
	MaxStreamDecoded = 16 << 20

	// MaxMetadata bounds the catalog's XMP metadata, part of
	// MaxStreamDecoded. Validating it costs pdfcpu five times its size;
	// it is a few KB, and a long editing history makes it a few MB.
	MaxMetadata = 4 << 20

	// MaxInflated bounds all of a document's Flate streams together
	// once inflated, counted before pdfcpu reads the file: the
	// decompression bomb is refused there, fast, whatever holds it.
	// It is well above what pdfcpu decodes because images, which it
	// never decodes here, are counted too: a 10-page grayscale scan
	// at 300 dpi inflates to about 85 MiB.
	MaxInflated = 128 << 20

	// MaxObjects bounds a document's objects (and a cross-reference
	// stream's entries). A 500-page document has some tens of
	// thousands; each object costs pdfcpu a few hundred bytes.
	MaxObjects = 300_000

	// MaxImagePixels bounds an image pdfcpu decodes, which for
	// pdfsign is the drawn signature: rooms lets it be 4000×2000.
	MaxImagePixels = 8 << 20
)

var errTooLarge = fmt.Errorf("%w: too large once decompressed", ErrNotPDF)

func limits() model.ResourceLimits {
	l := model.DefaultResourceLimits()
	l.MaxStreamBytes = MaxStreamDecoded // uploads are 10 MiB at most
	l.MaxDecodeBytes = MaxStreamDecoded
	l.MaxImagePixels = MaxImagePixels
	l.MaxImageBytes = 4 * MaxImagePixels
	l.MaxObjectCount = MaxObjects
	l.MaxObjectStreamCount = MaxObjects
	l.MaxObjectStreamFirst = 4 << 20 // "objnr offset" pairs of MaxObjects objects
	l.MaxXRefEntries = MaxObjects
	return l
}

// scan runs over pdf's bytes before pdfcpu sees them. It refuses an
// encrypted document, whose streams it cannot read, and counts what
// the zlib (FlateDecode) streams inflate to, without keeping any of
// it, stopping as soon as the count passes MaxInflated.
func scan(pdf []byte) error {
	if encrypted(pdf) {
		return fmt.Errorf("%w: encrypted", ErrNotPDF)
	}
	m := newMeter(MaxInflated)
	for start := range streamStarts(pdf) {
		if err := m.inflate(pdf[start:]); err != nil {
			return err
		}
	}
	return nil
}

// streamStarts yields where each stream's data may begin: after the
// keyword "stream" and the white space that follows it. It does not
// trust /Length or look for "endstream": the inflater stops at the end
// of the zlib data by itself, so data that claims to end early, or
// holds the word "endstream", is still counted in full. It does not
// skip what one stream's data covers either, so a stream hidden inside
// another's is counted too.
func streamStarts(pdf []byte) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		for i := 0; ; {
			j := bytes.Index(pdf[i:], []byte("stream"))
			if j < 0 {
				return
			}
			i += j + len("stream")
			if i >= len("endstream") && string(pdf[i-len("endstream"):i]) == "endstream" {
				continue
			}
			start := i
			for start < len(pdf) && isSpace(pdf[start]) {
				start++
			}
			if !yield(start) {
				return
			}
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// meter counts decoded bytes against a budget. It keeps one inflater
// and reuses it for every stream: memory does not grow with the size
// or the number of streams.
type meter struct {
	left int64
	z    io.ReadCloser
}

func newMeter(budget int64) *meter { return &meter{left: budget} }

// inflate counts what data inflates to, if it is zlib data at all.
// Errors in the data only stop the count: pdfcpu refuses such a
// stream itself.
func (m *meter) inflate(data []byte) error {
	if !isZlib(data) {
		return nil
	}
	r := bytes.NewReader(data)
	if m.z == nil {
		z, err := zlib.NewReader(r)
		if err != nil {
			return nil
		}
		m.z = z
	} else if err := m.z.(zlib.Resetter).Reset(r, nil); err != nil {
		return nil
	}
	_, err := io.Copy(io.Discard, &counted{r: m.z, m: m})
	if errors.Is(err, errTooLarge) {
		return err
	}
	return nil
}

// isZlib reports whether h starts with a zlib header: deflate, a
// window of at most 32 KiB, no preset dictionary, and the check bits
// right. Anything else is not a stream zlib (or pdfcpu) would inflate.
func isZlib(h []byte) bool {
	return len(h) >= 2 && h[0]&0x0f == 8 && h[0]>>4 <= 7 && h[1]&0x20 == 0 && (uint(h[0])<<8|uint(h[1]))%31 == 0
}

// counted charges what it reads to its meter and fails once the
// budget is spent.
type counted struct {
	r io.Reader
	m *meter
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err := c.m.charge(int64(n)); err != nil {
		return n, err
	}
	return n, err
}

// encrypted reports whether pdf has a name /Encrypt, spelt plainly or
// with #xx escapes: the trailer entry of an encrypted document. Its
// streams look like noise to scan, yet pdfcpu opens a document that
// has no user password and inflates them. The trailer is never
// compressed, so the name is always there to see.
func encrypted(pdf []byte) bool {
	var buf [16]byte
	for i := 0; ; {
		j := bytes.IndexByte(pdf[i:], '/')
		if j < 0 {
			return false
		}
		i += j + 1
		name, n := readName(pdf[i:], buf[:0])
		if string(name) == "Encrypt" {
			return true
		}
		i += n
	}
}

// readName decodes into name the PDF name at the start of b (after
// its "/"), as far as name's capacity, and says how many bytes of b it
// took.
func readName(b, name []byte) ([]byte, int) {
	i := 0
	for i < len(b) && len(name) < cap(name) && !isSpace(b[i]) && strings.IndexByte("/<>[]()%{}", b[i]) < 0 {
		c := b[i]
		var v [1]byte
		if c == '#' && i+2 < len(b) {
			if _, err := hex.Decode(v[:], b[i+1:i+3]); err == nil {
				c = v[0]
				i += 2
			}
		}
		name = append(name, c)
		i++
	}
	return name, i
}

// metadata is the catalog's /Metadata stream, which pdfcpu decodes
// to validate the document.
func metadata(ctx *model.Context) []*types.StreamDict {
	if sd := streamOf(ctx, ctx.RootDict["Metadata"]); sd != nil {
		return []*types.StreamDict{sd}
	}
	return nil
}

// lastContent is the content of the last page, which pdfcpu decodes to
// stamp it: found by where the page points, not by what the streams
// claim to be.
func lastContent(ctx *model.Context) ([]*types.StreamDict, error) {
	page, _, _, err := ctx.PageDict(ctx.PageCount, false)
	if err != nil || page == nil {
		return nil, err
	}
	contents, err := ctx.Dereference(page["Contents"])
	if err != nil {
		return nil, err
	}
	arr, ok := contents.(types.Array)
	if !ok {
		arr = types.Array{contents}
	}
	var out []*types.StreamDict
	for _, o := range arr {
		if sd := streamOf(ctx, o); sd != nil {
			out = append(out, sd)
		}
	}
	return out, nil
}

// streamOf is a copy of the stream o is or refers to, or nil. Unlike
// DereferenceStreamDict it leaves the object unmarked, for pdfcpu's
// validation to look at.
func streamOf(ctx *model.Context, o types.Object) *types.StreamDict {
	o, err := ctx.Dereference(o)
	if err != nil {
		return nil
	}
	if sd, ok := o.(types.StreamDict); ok {
		return &sd
	}
	return nil
}

// measure counts what streams decode to against the meter.
func (m *meter) measure(streams []*types.StreamDict) error {
	for _, sd := range streams {
		if err := m.decode(sd); err != nil {
			return err
		}
	}
	return nil
}

// decode counts what sd decodes to. Text encodings (hex, ASCII85)
// are undone, and the FlateDecode filters after them inflate into the
// meter in constant memory; data with no filter counts as it is. Any
// other pipeline (LZW, run length) is decoded by pdfcpu within what is
// left of the budget, and dropped.
func (m *meter) decode(sd *types.StreamDict) error {
	if len(sd.FilterPipeline) == 0 {
		return m.charge(int64(len(sd.Raw)))
	}
	if data, flates, ok := textThenFlate(sd, m.left); ok {
		return m.inflateAll(data, flates)
	}
	probe := *sd // decoding sets Content: leave the document's copy alone
	// A limit of 0 would mean pdfcpu's default: ask for one byte.
	b, err := probe.DecodeLengthWithLimit(-1, max(m.left, 1))
	if errors.Is(err, filter.ErrDecodeLimitExceeded) {
		return errTooLarge
	}
	// Other errors leave nothing decoded, and pdfcpu refuses the
	// stream itself.
	return m.charge(int64(len(b)))
}

func (m *meter) charge(n int64) error {
	if m.left -= n; m.left < 0 {
		return errTooLarge
	}
	return nil
}

// textThenFlate is sd's data with its text encodings undone, and how
// many FlateDecode filters follow them, when at least one and nothing
// else does, and undoing them stays within limit (ASCII85 makes "z"
// four bytes).
func textThenFlate(sd *types.StreamDict, limit int64) ([]byte, int, bool) {
	p := sd.FilterPipeline
	text := 0
	for text < len(p) && (p[text].Name == filter.ASCIIHex || p[text].Name == filter.ASCII85) {
		text++
	}
	if text == len(p) {
		return nil, 0, false
	}
	for _, f := range p[text:] {
		if f.Name != filter.Flate {
			return nil, 0, false
		}
	}
	data, err := undo(sd.Raw, p[:text], max(limit, 1))
	return data, len(p) - text, err == nil
}

// inflateAll counts what data inflates to through n FlateDecode
// filters, charging each one's output, as pdfcpu holds each.
func (m *meter) inflateAll(data []byte, n int) error {
	var r io.Reader = bytes.NewReader(data)
	for range n {
		z, err := zlib.NewReader(r)
		if err != nil {
			return nil // pdfcpu refuses the stream itself
		}
		r = &counted{r: z, m: m}
	}
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, errTooLarge) {
		return err
	}
	return nil
}

// undo applies text decoding filters, within limit.
func undo(data []byte, p []types.PDFFilter, limit int64) ([]byte, error) {
	for _, f := range p {
		fl, err := filter.NewFilter(f.Name, nil, limit)
		if err != nil {
			return nil, err
		}
		r, err := fl.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if data, err = io.ReadAll(r); err != nil {
			return nil, err
		}
	}
	return data, nil
}
