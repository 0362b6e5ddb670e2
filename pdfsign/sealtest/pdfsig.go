package sealtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Pdfsig runs poppler's pdfsig on doc (certificates not checked against
// a trust store) and returns its report. Without pdfsig the test is
// skipped, and fails under CI, whose .ci/run installs poppler-utils.
func Pdfsig(t testing.TB, doc []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdfsig")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdfsig (poppler-utils) is needed: .ci/run installs it")
		}
		t.Skip("pdfsig (poppler-utils) is not installed")
	}
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(path, "-nocert", file).CombinedOutput()
	return string(out)
}

// Text is doc's text as poppler's pdftotext reads it (the same skip and
// failure as Pdfsig when it is missing).
func Text(t testing.TB, doc []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is needed: .ci/run installs it")
		}
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}
