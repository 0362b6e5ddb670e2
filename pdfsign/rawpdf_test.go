package pdfsign

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"

	"github.com/cohub/cohub/internal/hostile"
)

// The hostile documents' builders, under the names these tests use.
var (
	rawPDF    = hostile.PDF
	streamObj = hostile.StreamObj
	zlibZeros = hostile.ZlibZeros
	zlibOf    = hostile.ZlibOf
	bombPDF   = hostile.BombPDF
)

// flatePages is a valid PDF of len(contents) pages whose content
// streams are each zlib of the given bytes.
func flatePages(contents ...[]byte) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
	var kids []string
	for _, c := range contents {
		page := len(objs) + 1
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", page+1),
			streamObj("/Filter /FlateDecode", deflate(c)))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	return rawPDF(objs...)
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// pageOfStreams is a one-page document whose content is n copies of
// a stream.
func pageOfStreams(n int, entries string, data []byte) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"",
	}
	var refs []string
	for range n {
		objs = append(objs, streamObj(entries, data))
		refs = append(refs, fmt.Sprintf("%d 0 R", len(objs)))
	}
	objs[2] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [" + strings.Join(refs, " ") + "] >>"
	return rawPDF(objs...)
}
