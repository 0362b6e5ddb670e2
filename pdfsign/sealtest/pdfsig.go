package sealtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Pdfsig runs poppler's pdfsig on doc (certificates not checked against
// a trust store) and returns its report.
func Pdfsig(t testing.TB, doc []byte) string {
	t.Helper()
	out, _ := poppler(t, "pdfsig", doc, "-nocert")
	return string(out)
}

// Text is doc's text as poppler's pdftotext reads it.
func Text(t testing.TB, doc []byte) string {
	t.Helper()
	out, err := poppler(t, "pdftotext", doc, "-layout")
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}

// poppler runs one of poppler's tools on doc, written to a file, with
// args before the file (pdftotext then writes to standard output).
// Without poppler-utils the test is skipped, and fails under CI, whose
// .ci/run installs them.
func poppler(t testing.TB, tool string, doc []byte, args ...string) ([]byte, error) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (poppler-utils) is needed: .ci/run installs it", tool)
		}
		t.Skipf("%s (poppler-utils) is not installed", tool)
	}
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, file)
	if tool == "pdftotext" {
		args = append(args, "-")
	}
	return exec.Command(path, args...).CombinedOutput()
}
