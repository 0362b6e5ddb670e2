package pdfsign

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
)

func TestSampleIsAPDF(t *testing.T) {
	n, err := Check(Sample("Loan agreement (2026)", 3))
	if err != nil || n != 3 {
		t.Fatalf("pages %d, err %v", n, err)
	}
}

func TestCheckRefusesWhatIsNotAPDF(t *testing.T) {
	good := Sample("Offer", 2)
	for name, b := range map[string][]byte{
		"text":      []byte("hello, world"),
		"empty":     nil,
		"truncated": good[:len(good)/2],
		"header":    []byte("%PDF-1.7\nnot really"),
	} {
		if _, err := Check(b); !errors.Is(err, ErrNotPDF) {
			t.Errorf("%s: err %v, want ErrNotPDF", name, err)
		}
	}
}

func TestSignStampsTheLastPage(t *testing.T) {
	orig := Sample("Offer", 2)
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for name, sig := range map[string][]byte{"drawn": signaturePNG(t), "typed": nil} {
		t.Run(name, func(t *testing.T) {
			signed, err := Sign(orig, Stamp{Name: "Cara Müller", Signature: sig, At: at, SessionID: "s_01TEST"})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(signed, orig) {
				t.Fatal("signed copy equals the original")
			}
			if n, err := Check(signed); err != nil || n != 2 {
				t.Fatalf("signed copy: pages %d, err %v", n, err)
			}
			has, err := api.HasWatermarks(bytes.NewReader(signed), config())
			if err != nil || !has {
				t.Fatalf("signed copy has no stamp: %v", err)
			}
			if has, _ := api.HasWatermarks(bytes.NewReader(orig), config()); has {
				t.Fatal("the original was stamped too")
			}
		})
	}
}

func TestBlockText(t *testing.T) {
	got := blockText(Stamp{Name: "Cara Müller 李", At: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), SessionID: "s_1"})
	want := "Signed electronically (typed name) by Cara Müller ?\non 1 December 2026 at 12:00:00 UTC\nSession s_1"
	if got != want {
		t.Fatalf("block %q, want %q", got, want)
	}
}

func signaturePNG(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 300, 100))
	for x := 20; x < 280; x++ {
		img.Set(x, 50+(x%20)-10, color.Black)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
