// Package hostile makes files crafted to cost a server its memory: a
// small PNG that declares a huge picture, a small PDF whose streams
// inflate a thousandfold. The tests of the pages that refuse them and
// the load tool's abuse scenario use the same files. Nothing here is
// used by the server itself.
package hostile

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"runtime"
)

// PDF writes a PDF whose objects are objs, numbered from 1, with a
// classic xref table; object 1 is the catalog. Tests use it to say
// exactly which bytes a hostile document carries.
func PDF(objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// StreamObj is a stream object with the given dictionary entries.
func StreamObj(entries string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", entries, len(data), data)
}

// ZlibZeros returns a zlib stream that inflates to mib MiB of zeros.
func ZlibZeros(mib int) []byte { return ZlibOf(nil, mib) }

// ZlibOf returns a zlib stream that inflates to prefix, stored as is,
// then mib MiB of zeros. Compressing that many zeros takes seconds (a
// minute under -race), so it compresses two MiB and repeats the
// second: after a sync flush, a deflate block that encodes zeros
// refers back only to zeros, so copies of it decode to more zeros.
func ZlibOf(prefix []byte, mib int) []byte {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestCompression)
	zero := make([]byte, 1<<20)
	w.Write(zero)
	w.Flush()
	first := bytes.Clone(out.Bytes())
	out.Reset()
	w.Write(zero)
	w.Flush()
	block := bytes.Clone(out.Bytes())
	out.Reset()
	w.Close()
	last := out.Bytes()

	z := []byte{0x78, 0xda} // zlib header: deflate, 32 KiB window, best compression
	if len(prefix) > 0 {
		// A stored block, not the last: BFINAL 0, BTYPE 00, then LEN and NLEN.
		z = append(z, 0)
		z = binary.LittleEndian.AppendUint16(z, uint16(len(prefix)))
		z = binary.LittleEndian.AppendUint16(z, ^uint16(len(prefix)))
		z = append(z, prefix...)
	}
	z = append(z, first...)
	for range mib - 1 {
		z = append(z, block...)
	}
	z = append(z, last...)
	// Adler-32 goes on from the prefix's: zeros leave a as it is and
	// add a to b once a byte.
	sum := adler32.Checksum(prefix)
	a, b := uint64(sum&0xffff), uint64(sum>>16)
	b = (b + a*(uint64(mib)<<20)) % 65521
	return binary.BigEndian.AppendUint32(z, uint32(b<<16|a))
}

// BombPDF is a valid one-page PDF whose page content stream is zlib of
// mib MiB of zeros.
func BombPDF(mib int) []byte {
	return PDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
		StreamObj("/Filter /FlateDecode", ZlibZeros(mib)),
	)
}

// PNG16 is a PNG that declares w×h pixels of 16-bit RGBA, all zero: a
// small file that a decoder turns into w×h×8 bytes.
func PNG16(w, h int) []byte {
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, 1+w*8) // a filter byte, then the pixels
	for range h {
		_, _ = zw.Write(row)
	}
	_ = zw.Close()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits, RGBA
	pngChunk(&out, "IHDR", ihdr)
	pngChunk(&out, "IDAT", idat.Bytes())
	pngChunk(&out, "IEND", nil)
	return out.Bytes()
}

func pngChunk(out *bytes.Buffer, kind string, data []byte) {
	_ = binary.Write(out, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(kind))
	crc.Write(data)
	out.WriteString(kind)
	out.Write(data)
	_ = binary.Write(out, binary.BigEndian, crc.Sum32())
}

// Allocated is how many bytes the process allocated while f ran: a test
// whose server runs in its own process sees what a request cost it.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
