package app

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/rooms"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// backupOf makes a data directory with an agent, a secret and a blob,
// and returns its backup and the secret.
func backupOf(t *testing.T) ([]byte, []byte) {
	d, err := OpenDataDir(filepath.Join(t.TempDir(), "data"), nil, zerolog.Nop())
	must(t, err)
	defer d.Close()
	must(t, d.Store.CreateAgent(context.Background(), &rooms.Agent{ID: "a_1", Email: "ann@x.test", Role: rooms.RoleAgent}))
	secret, err := d.Secret()
	must(t, err)
	must(t, os.MkdirAll(d.file("blobs/a"), 0o700))
	must(t, os.WriteFile(d.file("blobs/a/key"), []byte("bytes"), 0o600))
	var buf bytes.Buffer
	must(t, d.WriteBackup(&buf))
	return buf.Bytes(), secret
}

// TestRestore: a backup restores whole; restore refuses a live
// directory, one with data (unless replace, which moves it aside), a
// directory with other things in it, and a tar that is not a backup.
func TestRestore(t *testing.T) {
	backup, secret := backupOf(t)
	dir := filepath.Join(t.TempDir(), "restored")
	_, err := Restore(dir, bytes.NewReader(backup), false)
	must(t, err)
	d, err := OpenDataDir(dir, nil, zerolog.Nop())
	must(t, err)
	if a, err := d.Store.Agent(context.Background(), "a_1"); err != nil || a.Email != "ann@x.test" {
		t.Fatalf("restored agent: %+v %v", a, err)
	}
	if got, _ := d.Secret(); !bytes.Equal(got, secret) {
		t.Fatalf("restored secret %q, want %q", got, secret)
	}
	if b, _ := os.ReadFile(d.file("blobs/a/key")); string(b) != "bytes" {
		t.Fatalf("restored blob %q", b)
	}
	if _, err := Restore(dir, bytes.NewReader(backup), true); !errors.Is(err, ErrDirInUse) {
		t.Fatalf("restore over a live directory: %v", err)
	}
	must(t, d.Close())

	if _, err := Restore(dir, bytes.NewReader(backup), false); err == nil || !strings.Contains(err.Error(), "--replace") {
		t.Fatalf("restore over data: %v", err)
	}
	aside, err := Restore(dir, bytes.NewReader(backup), true)
	if err != nil || !hasFile(aside, dbFile) || !hasFile(dir, dbFile) {
		t.Fatalf("restore with replace: aside %q, %v", aside, err)
	}

	other := t.TempDir()
	must(t, os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o600))
	if _, err := Restore(other, bytes.NewReader(backup), true); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a directory of other things: %v", err)
	}

	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	must(t, tw.WriteHeader(&tar.Header{Name: "../escape", Mode: 0o600, Size: 1}))
	_, _ = tw.Write([]byte("x"))
	must(t, tw.Close())
	fresh := filepath.Join(t.TempDir(), "fresh")
	if _, err := Restore(fresh, &evil, false); err == nil || !strings.Contains(err.Error(), "not a Cohub backup") {
		t.Fatalf("a tar leaving its directory: %v", err)
	}
	if hasFile(filepath.Dir(fresh), "escape") {
		t.Fatal("the tar wrote outside its directory")
	}
}

// TestDataDirIsOwnerOnly: a directory others could read is made
// owner-only at open, and so is the backup socket.
func TestDataDirIsOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	must(t, os.Mkdir(dir, 0o755))
	d, err := OpenDataDir(dir, nil, zerolog.Nop())
	must(t, err)
	defer d.Close()
	for _, p := range []string{dir, d.file(controlSock), d.file(dbFile)} {
		info, err := os.Stat(p)
		if err != nil || info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v %v", p, info.Mode(), err)
		}
	}
}
