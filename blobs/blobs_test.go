package blobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TestContract runs the same checks on every kind of bucket: the S3 one
// speaks the real protocol to an in-process S3-compatible server.
func TestContract(t *testing.T) {
	urls := map[string]func(t *testing.T) string{
		"mem":  func(*testing.T) string { return "mem://" },
		"file": func(t *testing.T) string { return "file://" + t.TempDir() + "/blobs" },
		"s3":   fakeS3,
	}
	for name, mk := range urls {
		t.Run(name, func(t *testing.T) {
			s, err := Open(t.Context(), mk(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			contract(t, s)
		})
	}
}

func contract(t *testing.T, s Store) {
	ctx := t.Context()
	key := NewKey()
	body := bytes.Repeat([]byte("cohub "), 50000) // 300 KB: several parts on some stores
	if err := s.Put(ctx, key, "application/pdf", bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, key); !bytes.Equal(got, body) {
		t.Fatalf("read %d bytes, wrote %d", len(got), len(body))
	}
	if _, err := s.Get(ctx, NewKey()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get of a missing key: %v, want ErrNotFound", err)
	}
	// A failed source leaves nothing under the key.
	broken := NewKey()
	err := s.Put(ctx, broken, "image/png", io.MultiReader(strings.NewReader("partial"), failing{}))
	if err == nil {
		t.Fatal("put from a failing reader succeeded")
	}
	if _, err := s.Get(ctx, broken); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed put left a blob: %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestKeysDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := NewKey()
		if seen[k] || len(k) < 40 {
			t.Fatalf("key %q repeated or short", k)
		}
		seen[k] = true
	}
}

func TestOpenRefusesUnknownScheme(t *testing.T) {
	if _, err := Open(context.Background(), "ftp://x"); err == nil {
		t.Fatal("ftp:// opened")
	}
	if _, err := Open(context.Background(), "file://"); err == nil {
		t.Fatal("file:// without a directory opened")
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("connection dropped") }

func read(t *testing.T, s Store, key string) []byte {
	t.Helper()
	r, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeS3 serves an S3-compatible API in this process and returns the
// bucket URL that reaches it.
func fakeS3(t *testing.T) string {
	backend := s3mem.New()
	if err := backend.CreateBucket("cohub"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	return "s3://cohub?region=us-east-1&use_path_style=true&endpoint=" + url.QueryEscape(srv.URL)
}

// A file bucket writes its temporary files beside its blobs, never in
// the system's temp dir: a rename from a /tmp on another mount (a
// tmpfs, a container's volume) to the bucket fails with "invalid
// cross-device link". TMPDIR here is a directory that does not exist,
// so any write through it fails.
func TestFileBucketNeedsNoTempDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir+"/no-such-dir")
	s, err := Open(t.Context(), "file://"+dir+"/blobs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	key := NewKey()
	if err := s.Put(t.Context(), key, "image/png", strings.NewReader("bytes")); err != nil {
		t.Fatalf("put through the system temp dir: %v", err)
	}
	if got := read(t, s, key); string(got) != "bytes" {
		t.Fatalf("read %q", got)
	}
}
