package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/boltstore"
)

// The data directory's files (DESIGN.md §2, "The embedded store").
const (
	dbFile      = "cohub.db"        // the store and the outbox (bbolt)
	blobsDir    = "blobs"           // the file:// bucket of uploads and signed copies
	secretFile  = "secret"          // the link-signing secret, when --secret is not given
	demoFile    = "demo-logins.txt" // the demo logins made at first start
	holderFile  = "cohub.pid"       // who holds the directory: pid and start time
	controlSock = "control.sock"    // the running server's backup socket
)

// DataDir is one node's data directory, held by this process alone:
// the embedded store, the blobs, the secret and the demo logins.
type DataDir struct {
	// Path is the directory, absolute.
	Path  string
	Store *boltstore.Store
	ctl   net.Listener
	log   zerolog.Logger
}

// ErrDirInUse says another process holds a data directory.
var ErrDirInUse = errors.New("cannot open the data directory")

// OpenDataDir opens dir (created with owner-only permissions when
// missing) for this process alone. publish receives the store's commits
// (see boltstore.Options). A directory another process holds is refused
// with a sentence that names that process.
func OpenDataDir(dir string, publish func(string, []rooms.Event), log zerolog.Logger) (*DataDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(abs, log); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := boltstore.Open(filepath.Join(abs, dbFile), boltstore.Options{Publish: publish, OutboxSize: outboxSize})
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("%w: %s is in use by %s; stop it first, or give another --data-dir", ErrDirInUse, abs, holder(abs))
	}
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	d := &DataDir{Path: abs, Store: st, log: log}
	line := fmt.Sprintf("%d %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	if err := writePrivate(d.file(holderFile), []byte(line)); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("data directory: %w", err)
	}
	d.serveControl()
	return d, nil
}

// ownerOnly makes dir, or makes an existing one, readable by its owner
// only: it holds the link secret, password hashes and the backup socket.
func ownerOnly(dir string, log zerolog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm()&0o077 == 0 {
		return err
	}
	log.Warn().Str("data_dir", dir).Msg("the data directory was open to other users: it is now owner-only (0700)")
	return os.Chmod(dir, 0o700)
}

// holder says which process holds dir, as its holder file tells.
func holder(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, holderFile))
	pid, started, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if _, perr := strconv.Atoi(pid); err != nil || !ok || perr != nil {
		return "another process"
	}
	return "process " + pid + " (started " + started + ")"
}

func (d *DataDir) file(name string) string { return filepath.Join(d.Path, name) }

// BlobURL is the file:// bucket inside the directory.
func (d *DataDir) BlobURL() string { return "file://" + filepath.ToSlash(d.file(blobsDir)) }

// DemoLogins is where the demo logins made at first start are kept.
func (d *DataDir) DemoLogins() string { return d.file(demoFile) }

// Secret is the link-signing secret kept in the directory, made at the
// first call: links stay valid over a restart.
func (d *DataDir) Secret() ([]byte, error) {
	b, err := os.ReadFile(d.file(secretFile))
	if err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret: %w", err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	secret := hex.EncodeToString(raw)
	if err := writePrivate(d.file(secretFile), []byte(secret+"\n")); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return []byte(secret), nil
}

// Close stops the backup socket, closes the store and lets the
// directory go.
func (d *DataDir) Close() error {
	if d.ctl != nil {
		_ = d.ctl.Close()
	}
	_ = os.Remove(d.file(holderFile))
	return d.Store.Close()
}

// writePrivate writes a file only its owner may read, whole or not at
// all: a temporary file, synced, renamed over the old one.
func writePrivate(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // gone already once renamed
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
