package app

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// A backup is a tar of the data directory as restore lays it out again:
// a consistent copy of cohub.db, the secret, the demo logins and the
// blobs. A running server makes it on request over control.sock (only
// its owner may connect: the directory is owner-only), since it holds
// the database's lock; a stopped one's directory is read directly.

const backupRequest = "backup\n"

// serveControl listens on the directory's control socket. A server that
// cannot (a path too long for a socket) still runs; only a live backup
// is then refused.
func (d *DataDir) serveControl() {
	path := d.file(controlSock)
	_ = os.Remove(path) // a socket left by a process that was killed; we hold the lock
	ln, err := net.Listen("unix", path)
	if err != nil {
		d.log.Warn().Err(err).Msg("no backup socket: cohub backup needs this server stopped")
		return
	}
	// Only the owner may ask for a backup, even should the directory's
	// mode be widened later.
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		d.log.Warn().Err(err).Msg("no backup socket: cohub backup needs this server stopped")
		return
	}
	d.ctl = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go d.serveBackup(c)
		}
	}()
}

func (d *DataDir) serveBackup(c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != backupRequest {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if err := d.WriteBackup(c); err != nil {
		d.log.Error().Err(err).Msg("backup failed")
		return
	}
	d.log.Info().Msg("backup written")
}

// WriteBackup writes the directory's backup to w.
func (d *DataDir) WriteBackup(w io.Writer) error {
	tw := tar.NewWriter(w)
	err := d.Store.Snapshot(func(size int64) (io.Writer, error) {
		return tw, tw.WriteHeader(&tar.Header{Name: dbFile, Mode: 0o600, Size: size, ModTime: time.Now()})
	})
	if err != nil {
		return fmt.Errorf("backup of the store: %w", err)
	}
	for _, name := range []string{secretFile, demoFile} {
		if err := addFile(tw, d.Path, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	err = filepath.WalkDir(d.file(blobsDir), func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return ignoreMissing(err)
		}
		rel, _ := filepath.Rel(d.Path, path)
		// A blob deleted (by the retention sweep) since the walk began is
		// gone from the copy too.
		return ignoreMissing(addFile(tw, d.Path, rel))
	})
	if err != nil {
		return fmt.Errorf("backup of the files: %w", err)
	}
	return tw.Close()
}

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func addFile(tw *tar.Writer, dir, rel string) error {
	f, err := os.Open(filepath.Join(dir, rel))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.CopyN(tw, f, st.Size())
	return err
}

// Backup writes a backup of the data directory dir to w: through the
// running server that holds it, or directly when none does.
func Backup(ctx context.Context, dir string, w io.Writer) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(abs, dbFile)); err != nil {
		return fmt.Errorf("%s holds no Cohub data (no %s)", abs, dbFile)
	}
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "unix", filepath.Join(abs, controlSock))
	if err == nil {
		defer c.Close()
		if _, err := io.WriteString(c, backupRequest); err != nil {
			return err
		}
		return copyBackup(w, c)
	}
	d, err := OpenDataDir(abs, nil, zerolog.Nop())
	if err != nil {
		return err
	}
	defer d.Close()
	return d.WriteBackup(w)
}

// copyBackup copies a backup from the server, checking it is whole: a
// server that failed midway closes the stream early.
func copyBackup(w io.Writer, r io.Reader) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		tr := tar.NewReader(pr)
		var err error
		for err == nil {
			_, err = tr.Next()
		}
		if err == io.EOF {
			err = nil
		}
		_, _ = io.Copy(io.Discard, pr)
		done <- err
	}()
	_, err := io.Copy(io.MultiWriter(w, pw), r)
	_ = pw.CloseWithError(err)
	if terr := <-done; err == nil && terr != nil {
		err = fmt.Errorf("the server's backup is incomplete: %w", terr)
	}
	return err
}

// Restore lays a backup out as the data directory dir. It refuses a
// directory a process holds, and one that already holds data unless
// replace is set; the data it replaces is moved aside, not deleted.
func Restore(dir string, r io.Reader, replace bool) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	aside := ""
	if entries, _ := os.ReadDir(abs); len(entries) > 0 && !hasFile(abs, dbFile) {
		return "", fmt.Errorf("%s is not empty and holds no Cohub data: restore into a new or empty directory", abs)
	}
	if hasFile(abs, dbFile) {
		d, err := OpenDataDir(abs, nil, zerolog.Nop())
		if err != nil {
			return "", err // a live directory: the sentence names its process
		}
		_ = d.Close()
		if !replace {
			return "", fmt.Errorf("%s already holds Cohub data; give --replace to move it aside and restore over it", abs)
		}
		aside = abs + ".replaced-" + time.Now().UTC().Format("20060102T150405")
		if err := os.Rename(abs, aside); err != nil {
			return "", err
		}
	}
	tmp := abs + ".restoring"
	_ = os.RemoveAll(tmp)
	if err := untar(tmp, r); err != nil {
		_ = os.RemoveAll(tmp)
		return aside, err
	}
	if _, err := os.Stat(filepath.Join(tmp, dbFile)); err != nil {
		_ = os.RemoveAll(tmp)
		return aside, fmt.Errorf("not a Cohub backup: it has no %s", dbFile)
	}
	_ = os.Remove(abs) // an empty directory, if any
	return aside, os.Rename(tmp, abs)
}

func hasFile(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// untar writes a backup's regular files under dir, refusing any name
// that would land outside it.
func untar(dir string, r io.Reader) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a Cohub backup: %w", err)
		}
		name := filepath.FromSlash(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !filepath.IsLocal(name) || strings.HasPrefix(name, ".") {
			return fmt.Errorf("not a Cohub backup: it holds %q", hdr.Name)
		}
		if err := writeEntry(filepath.Join(dir, name), tr); err != nil {
			return err
		}
	}
}

func writeEntry(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
