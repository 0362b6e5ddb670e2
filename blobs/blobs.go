// Package blobs keeps the bytes of a session's assets (signed copies,
// uploads, documents to sign) in a bucket named by URL: mem:// in this
// process, file:///path on one node's disk, s3://bucket?… in S3 or any
// S3-compatible store shared by many nodes. Metadata lives elsewhere
// (rooms); here a blob is only bytes under a key.
package blobs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob" // registers s3://
	"gocloud.dev/gcerrors"
)

// ErrNotFound says no blob has the key.
var ErrNotFound = errors.New("blob not found")

// Store keeps blobs by key. Keys come from NewKey.
type Store interface {
	// Put writes the whole of r under key with its content type.
	Put(ctx context.Context, key, contentType string, r io.Reader) error
	// Get opens the blob; ErrNotFound when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob; a missing one is not an error (a sweep
	// on another node may have been first).
	Delete(ctx context.Context, key string) error
	Close() error
}

// NewKey is a blob key nobody can guess: 256 random bits. Knowing a
// session's id or an asset's id never tells where its bytes are.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "a/" + base64.RawURLEncoding.EncodeToString(b)
}

// Open opens the bucket a URL names. file:// creates its directory.
func Open(ctx context.Context, rawURL string) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob url: %w", err)
	}
	var b *blob.Bucket
	switch u.Scheme {
	case "mem":
		b = memblob.OpenBucket(nil)
	case "file":
		if u.Path == "" {
			return nil, errors.New("blob url: file:// needs a directory, e.g. file:///var/lib/cohub/blobs")
		}
		if err := os.MkdirAll(u.Path, 0o700); err != nil {
			return nil, fmt.Errorf("blob url: %w", err)
		}
		// Temporary files go beside the blobs: a rename from a system
		// temp dir on another mount (a tmpfs /tmp, a container's
		// volume) fails with "invalid cross-device link".
		b, err = fileblob.OpenBucket(u.Path, &fileblob.Options{NoTempDir: true})
	case "s3":
		b, err = blob.OpenBucket(ctx, rawURL)
	default:
		return nil, fmt.Errorf("blob url: scheme %q is not one of mem, file, s3", u.Scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("blob url: %w", err)
	}
	return &bucket{b: b}, nil
}

// bucket is a Store over a Go CDK bucket.
type bucket struct{ b *blob.Bucket }

// Put cancels the write when r fails: a write cancelled before Close
// leaves nothing behind, never a partial blob.
func (s *bucket) Put(ctx context.Context, key, contentType string, r io.Reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.b.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.Close()
		return err
	}
	return w.Close()
}

func (s *bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := s.b.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, ErrNotFound
	}
	return r, err
}

func (s *bucket) Delete(ctx context.Context, key string) error {
	err := s.b.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return err
}

func (s *bucket) Close() error { return s.b.Close() }
