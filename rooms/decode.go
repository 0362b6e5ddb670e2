package rooms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"net/http"
	"time"
)

// ErrBusy refuses work the node has no room for now (every decode slot
// taken past a short wait): the caller tries again shortly.
var ErrBusy = errors.New("busy")

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
func (s *Service) heavy(ctx context.Context) (release func(), err error) {
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

func (s *Service) leaveHeavy() { <-s.decodes }

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
