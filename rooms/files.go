package rooms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cohub/cohub/notify"
	"github.com/cohub/cohub/pdfsign"
)

// Memory budgets of one decode, read from the image's header before a
// pixel is decoded: a small file may claim a huge picture, and the
// pixel count alone misjudges 16-bit images (8 bytes a pixel).
const (
	imageBudget     = 64 << 20
	signatureBudget = 32 << 20
)

// decodedSize is what decoding an image of cfg allocates, by the pixel
// type Go's decoders return for its colour model.
func decodedSize(cfg image.Config) int64 {
	perPixel := int64(4)
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		perPixel = 1
	case color.Gray16Model, color.Alpha16Model:
		perPixel = 2
	case color.YCbCrModel:
		perPixel = 3
	case color.RGBA64Model, color.NRGBA64Model:
		perPixel = 8
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			perPixel = 1
		}
	}
	return int64(cfg.Width) * int64(cfg.Height) * perPixel
}

// withinBudget reads an image's header and refuses it when decoding it
// would take more than budget bytes.
func withinBudget(data []byte, budget int64) (image.Config, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return cfg, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, errors.New("no pixels")
	}
	if cfg.Width*cfg.Height > maxPixels || decodedSize(cfg) > budget {
		return cfg, fmt.Errorf("too large to process (%d×%d pixels); send a smaller picture", cfg.Width, cfg.Height)
	}
	return cfg, nil
}

// heavy takes one of the node's decode slots (image decodes, PDF parses
// and stamps): they are bounded by the CPU count, so a burst of files
// queues briefly and past DecodeWait is refused, rather than every one
// holding its memory at once. release gives the slot back.
func (s *FileService) heavy(ctx context.Context) (release func(), err error) {
	select {
	case s.decodes <- struct{}{}:
		return s.leaveHeavy, nil
	default:
	}
	t := time.NewTimer(s.cfg.DecodeWait)
	defer t.Stop()
	select {
	case s.decodes <- struct{}{}:
		return s.leaveHeavy, nil
	case <-t.C:
		return nil, fmt.Errorf("%w: many files are being processed; try again in a moment", ErrBusy)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrBusy, ctx.Err())
	}
}

func (s *FileService) leaveHeavy() { <-s.decodes }

// SniffUpload tells from a file's first bytes whether a customer may
// upload it (a JPEG, PNG or PDF), before the rest is read.
func SniffUpload(head []byte) error {
	switch http.DetectContentType(head) {
	case TypeJPEG, TypePNG, TypePDF:
		return nil
	}
	return fmt.Errorf("%w: send a JPEG or PNG photo, or a PDF", ErrUnsupportedType)
}

// SniffPDF tells from a file's first bytes whether it may be a PDF.
func SniffPDF(head []byte) error {
	if !bytes.HasPrefix(head, []byte("%PDF-")) {
		return errNotPDF
	}
	return nil
}

// errSignedAlready refuses a document to sign that carries a digital
// signature: stamping it would rewrite it and break that signature.
var errSignedAlready = fmt.Errorf("%w: this PDF is already digitally signed, and signing it here would break that signature; send the document before it was signed", ErrNotPDF)

// cleanPDF checks a document to sign and strips its active content
// (scripts, launches, embedded files), in one of the node's decode
// slots.
func (s *FileService) cleanPDF(ctx context.Context, data []byte) ([]byte, error) {
	if pdfsign.HasSignature(data) {
		return nil, errSignedAlready
	}
	release, err := s.heavy(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	clean, err := pdfsign.Clean(data)
	if err != nil {
		return nil, errNotPDF
	}
	return clean, nil
}

// cleanUpload cleans a customer's file in one of the node's decode
// slots, once its first bytes show a type worth decoding.
func (s *FileService) cleanUpload(ctx context.Context, data []byte) ([]byte, string, error) {
	if err := SniffUpload(data); err != nil {
		return nil, "", err
	}
	release, err := s.heavy(ctx)
	if err != nil {
		return nil, "", err
	}
	defer release()
	return cleanFile(data)
}

// cleanFile sniffs a file's type from its content and returns what is
// kept: images re-encoded, PDFs without their active content (as sent
// when they have none).
func cleanFile(data []byte) ([]byte, string, error) {
	typ := http.DetectContentType(data)
	switch typ {
	case TypePDF:
		clean, err := pdfsign.Clean(data)
		if err != nil {
			return nil, "", errNotPDF
		}
		return clean, typ, nil
	case TypeJPEG, TypePNG:
		out, err := reencode(data, typ)
		if err != nil {
			return nil, "", fmt.Errorf("%w: the image could not be read (%v)", ErrUnsupportedType, err)
		}
		return out, typ, nil
	}
	return nil, "", fmt.Errorf("%w: send a JPEG or PNG photo, or a PDF", ErrUnsupportedType)
}

func reencode(data []byte, typ string) ([]byte, error) {
	if _, err := withinBudget(data, imageBudget); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if typ == TypePNG {
		err = png.Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 90})
	}
	return out.Bytes(), err
}

func extension(typ string) string {
	switch typ {
	case TypeJPEG:
		return ".jpg"
	case TypePNG:
		return ".png"
	case typeJSON:
		return ".json"
	}
	return ".pdf"
}

// fileName is a safe name for a download: the base of what was sent,
// plain characters only, with the extension of its real type.
func fileName(name, ext string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.TrimSuffix(name, path.Ext(name))
	name = strings.Map(func(r rune) rune {
		// Text-direction controls would let "invoice\u202efdp.jpg" read
		// as a PDF's name.
		if notify.InlineUnsafe(r) || strings.ContainsRune(`"/\:*?<>|;`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	if utf8.RuneCountInString(name) > 100 {
		name = string([]rune(name)[:100])
	}
	if name == "" || name == "." {
		name = "file"
	}
	return name + ext
}

// signatureImage checks a drawn signature is a PNG of sane size and
// re-encodes it, so only pixels reach the signed copy.
func signatureImage(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) > 512<<10 || http.DetectContentType(b) != TypePNG {
		return nil, errors.New("must be a PNG of at most 512 KiB")
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width < 10 || cfg.Height < 10 || cfg.Width > 4000 || cfg.Height > 2000 {
		return nil, errors.New("must be a PNG between 10×10 and 4000×2000 pixels")
	}
	if decodedSize(cfg) > signatureBudget {
		return nil, errors.New("must be an 8-bit PNG: this one is too large to process")
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, errors.New("is not a readable PNG")
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// seal signs a signed copy digitally and says how, for its audit record.
func (s *FileService) seal(doc []byte, signer string, at time.Time) ([]byte, *SealRecord, error) {
	sealer, err := s.sealer()
	if err != nil {
		return nil, nil, err
	}
	out, err := sealer.Seal(doc, signer, at)
	if errors.Is(err, pdfsign.ErrTimestamp) {
		return nil, nil, fmt.Errorf("%w: the time-stamping authority did not answer; try again in a moment", ErrUnavailable)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the signed copy could not be sealed: %v", ErrUnavailable, err)
	}
	about := sealer.Identity().About()
	rec := &SealRecord{Signer: about.Name, Fingerprint: about.Fingerprint, SelfSigned: about.SelfSigned,
		Timestamp: out.Timestamp, TimestampError: out.TimestampError}
	return out.PDF, rec, nil
}

// sealer is the configured one, or one on the identity derived from
// the secret (made once per process).
func (s *FileService) sealer() (*pdfsign.Sealer, error) {
	if s.cfg.Sealer != nil {
		return s.cfg.Sealer, nil
	}
	id, err := pdfsign.DerivedIdentity(s.cfg.Secret)
	if err != nil {
		return nil, fmt.Errorf("%w: no signing identity: %v", ErrUnavailable, err)
	}
	return pdfsign.NewSealer(id, pdfsign.SealOptions{})
}
