package rooms

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The budget is read from the header, by bytes a pixel: the same size
// passes at 8 bits and is refused at 16.
func TestDecodeBudgetCountsBytesPerPixel(t *testing.T) {
	eight := encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 4000, 2000)))
	sixteen := encodePNG(t, image.NewNRGBA64(image.Rect(0, 0, 4000, 2000)))
	if _, err := withinBudget(eight, signatureBudget); err != nil {
		t.Fatalf("an 8-bit 4000×2000 signature (32 MB) was refused: %v", err)
	}
	if _, err := withinBudget(sixteen, signatureBudget); err == nil {
		t.Fatal("a 16-bit 4000×2000 signature (64 MB decoded) passed the 32 MiB budget")
	}
	if _, err := signatureImage(sixteen); err == nil {
		t.Fatal("signatureImage decoded a 16-bit 4000×2000 PNG")
	}
	gray := encodePNG(t, image.NewGray(image.Rect(0, 0, 7000, 7000)))
	if _, err := withinBudget(gray, imageBudget); err != nil {
		t.Fatalf("a 49 MP grey photo (49 MB) was refused: %v", err)
	}
	rgba := encodePNG(t, image.NewRGBA(image.Rect(0, 0, 7000, 7000)))
	if _, _, err := cleanFile(rgba); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("a 7000×7000 RGBA upload (196 MB decoded): %v, want ErrUnsupportedType", err)
	}
}

// With every decode slot taken, a file waits DecodeWait and is refused
// as busy; once a slot is free it goes through.
func TestDecodeSlotsRefuseWhenFull(t *testing.T) {
	svc := NewService(nil, nil, Config{Secret: []byte("0123456789abcdef"), MaxDecodes: 1, DecodeWait: 20 * time.Millisecond}, zerolog.Nop())
	release, err := svc.Files.heavy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	photo := encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 40, 30)))
	if _, _, err := svc.Files.cleanUpload(t.Context(), photo); !errors.Is(err, ErrBusy) {
		t.Fatalf("with every slot taken: %v, want ErrBusy", err)
	}
	release()
	if _, typ, err := svc.Files.cleanUpload(t.Context(), photo); err != nil || typ != TypePNG {
		t.Fatalf("with a slot free: %q, %v", typ, err)
	}
}

// A file's name keeps no text-direction controls: "invoice‮fdp.jpg"
// would read as a PDF's name in the Files panel.
func TestFileNameDropsDirectionControls(t *testing.T) {
	for _, name := range []string{"invoice\u202efdp.jpg", "a\u2066b\u2069.png", "x\u200fy.pdf", "c\u061cd.jpg"} {
		got := fileName(name, ".jpg")
		if strings.ContainsFunc(got, func(r rune) bool {
			return r == '\u202e' || r == '\u2066' || r == '\u2069' || r == '\u200f' || r == '\u061c'
		}) {
			t.Errorf("fileName(%q) = %q keeps a direction control", name, got)
		}
	}
	if got := fileName("Passport scan.png", ".png"); got != "Passport scan.png" {
		t.Errorf("a plain name became %q", got)
	}
}
