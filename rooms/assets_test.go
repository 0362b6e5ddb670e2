package rooms

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/cohub/cohub/pdfsign"
)

func TestValidateAnswers(t *testing.T) {
	defs := []FormField{
		{Name: "policy", Label: "Policy number", Type: "text", Required: true, Pattern: `[A-Z]{2}-[0-9]{6}`},
		{Name: "email", Label: "Email", Type: "email"},
		{Name: "amount", Label: "Amount", Type: "number", Min: "1", Max: "5000"},
		{Name: "born", Label: "Date of birth", Type: "date", Max: "2008-12-01"},
		{Name: "plan", Label: "Plan", Type: "select", Options: []string{"Basic", "Plus"}},
		{Name: "terms", Label: "I read the terms", Type: "checkbox", Required: true},
	}
	good := map[string]any{"policy": " AB-123456 ", "email": "cara@example.com", "amount": "250", "born": "1990-05-01", "plan": "Plus", "terms": true}
	out, err := ValidateAnswers(defs, good)
	if err != nil || out["policy"] != "AB-123456" || out["terms"] != true {
		t.Fatalf("good answers: %v %v", out, err)
	}
	for field, bad := range map[string]any{
		"policy": "ab-123456", "email": "not-an-email", "amount": "5001", "born": "2010-01-01", "plan": "Gold", "terms": false,
	} {
		answers := map[string]any{}
		for k, v := range good {
			answers[k] = v
		}
		answers[field] = bad
		var ve *ValidationError
		if _, err := ValidateAnswers(defs, answers); !errors.As(err, &ve) || ve.Fields["answers."+field] == "" {
			t.Errorf("%s=%v: %v", field, bad, err)
		}
	}
	var ve *ValidationError
	if _, err := ValidateAnswers(defs, map[string]any{"terms": true, "extra": "x"}); !errors.As(err, &ve) ||
		ve.Fields["answers.policy"] != "is required" || ve.Fields["answers.extra"] == "" {
		t.Fatalf("missing and unknown answers: %v", err)
	}
}

func TestFormFieldsValidated(t *testing.T) {
	f := problems{}
	validContent("form", TaskContent{Fields: []FormField{
		{Name: "a", Label: "A", Type: "text", Pattern: `(?=x)`},
		{Name: "a", Label: "B", Type: "colour"},
		{Name: "c", Label: "C", Type: "select"},
		{Name: "d", Label: "D", Type: "number", Min: "x"},
	}}, "task", f)
	for _, p := range []string{"task.fields[0].pattern", "task.fields[1].name", "task.fields[1].type", "task.fields[2].options", "task.fields[3].min"} {
		if f[p] == "" {
			t.Errorf("%s not refused: %v", p, f)
		}
	}
	f = problems{}
	validContent("upload", TaskContent{Fields: []FormField{{Name: "a", Label: "A", Type: "text"}}}, "task", f)
	if f["task.fields"] == "" {
		t.Errorf("an upload with fields: %v", f)
	}
}

// exifJPEG is a JPEG carrying an EXIF segment with a GPS tag.
func exifJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{200, 30, 30, 255})
	}
	var plain bytes.Buffer
	must(t, jpeg.Encode(&plain, img, nil))
	b := plain.Bytes()
	payload := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), []byte("GPSLatitude 51.5007 GPSLongitude -0.1246")...)
	seg := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	return append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
}

func TestCleanFile(t *testing.T) {
	photo := exifJPEG(t)
	if !bytes.Contains(photo, []byte("GPSLatitude")) {
		t.Fatal("the test photo has no GPS")
	}
	out, typ, err := cleanFile(photo)
	if err != nil || typ != TypeJPEG {
		t.Fatalf("photo: %s %v", typ, err)
	}
	if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("GPS")) {
		t.Fatal("EXIF survived the re-encoding")
	}
	if _, _, err := image.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("re-encoded photo unreadable: %v", err)
	}
	exe := append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 200)...)
	if _, _, err := cleanFile(exe); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("an .exe: %v", err)
	}
	if _, _, err := cleanFile(photo[:len(photo)/3]); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("a cut JPEG: %v", err)
	}
	if _, _, err := cleanFile([]byte("%PDF-1.7\nnot a pdf")); !errors.Is(err, ErrNotPDF) {
		t.Fatalf("a fake PDF: %v", err)
	}
	pdf := pdfsign.Sample("Payslip", 1)
	if out, typ, err := cleanFile(pdf); err != nil || typ != TypePDF || !bytes.Equal(out, pdf) {
		t.Fatalf("a PDF: %s %v", typ, err)
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":       "passwd.pdf",
		`C:\Users\me\scan.JPG`:   "scan.pdf",
		`bad"name;.pdf`:          "bad_name_.pdf",
		"":                       "file.pdf",
		strings.Repeat("x", 300): strings.Repeat("x", 100) + ".pdf",
	} {
		if got := fileName(in, ".pdf"); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
