package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
)

// uploadsAtOnce bounds the uploads one customer session or one agent
// may send at the same time: each holds a connection and up to a file
// in memory.
const uploadsAtOnce = 2

// sniffLen is how much of a file its type is told from (what
// http.DetectContentType reads) before the rest is read.
const sniffLen = 512

// readFile reads the one "file" part of a multipart body, at most the
// service's upload limit, for owner (a customer session or an agent),
// who may have uploadsAtOnce under way. sniff judges the file's first
// bytes before the rest is read. Anything else in the body is ignored.
// Callers have checked who sends it and that they may: only then does
// the body get time to arrive.
func (s *Server) readFile(w http.ResponseWriter, r *http.Request, owner string, sniff func([]byte) error) (name string, data []byte, err error) {
	if !s.uploads.take(owner) {
		return "", nil, fmt.Errorf("%w: at most %d uploads at once; wait for one to finish", rooms.ErrRateLimited, uploadsAtOnce)
	}
	defer s.uploads.give(owner)
	limit := s.files.MaxUpload()
	// The envelope (boundaries, part headers) gets 64 KiB beyond the file.
	// A body that says it is larger is refused unread.
	if r.ContentLength > limit+64<<10 {
		return "", nil, rooms.ErrFileTooLarge
	}
	r.Body = http.MaxBytesReader(w, s.idle(w, r.Body, uploadTime(limit)), limit+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, errMalformedUpload
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", nil, uploadError(err)
		}
		if p.FormName() != "file" {
			continue
		}
		data, err := readPart(p, limit, sniff)
		if err != nil {
			return "", nil, err
		}
		// The part must end properly: a body cut off mid-file is refused
		// rather than kept truncated.
		if _, err := mr.NextPart(); err != nil && !errors.Is(err, io.EOF) {
			return "", nil, uploadError(err)
		}
		return p.FileName(), data, nil
	}
}

// readPart reads a file's first bytes, lets sniff refuse them, then
// reads the rest: a file of a refused type costs its first bytes, not
// its whole size.
func readPart(p io.Reader, limit int64, sniff func([]byte) error) ([]byte, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(p, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, uploadError(err)
	}
	if n > 0 {
		if err := sniff(head[:n]); err != nil {
			return nil, err
		}
	}
	rest, err := io.ReadAll(io.LimitReader(p, limit+1-int64(n)))
	if err != nil {
		return nil, uploadError(err)
	}
	data := append(head[:n:n], rest...)
	if int64(len(data)) > limit {
		return nil, rooms.ErrFileTooLarge
	}
	return data, nil
}

// uploadTime is how long an upload of at most limit bytes may take to
// arrive in all: the server's read timeout (30 s) suits JSON bodies, not
// a 10 MiB photo from a phone on a slow link. It allows 16 KiB/s, and
// never less than two minutes. Within it, a body that sends nothing for
// the idle time is ended (idleBody).
func uploadTime(limit int64) time.Duration {
	return max(2*time.Minute, time.Duration(limit/(16<<10))*time.Second)
}

func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return rooms.ErrFileTooLarge
	}
	return errMalformedUpload
}

// idle gives a body up to total to arrive, but no more than the idle
// time between two reads that bring bytes: a trickle of a byte now and
// then does not hold a connection for the whole upload time.
func (s *Server) idle(w http.ResponseWriter, body io.ReadCloser, total time.Duration) io.ReadCloser {
	return &idleBody{ReadCloser: body, rc: http.NewResponseController(w),
		idle: s.opts.UploadIdle, end: time.Now().Add(total)}
}

type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time
}

func (b *idleBody) Read(p []byte) (int, error) {
	d := time.Now().Add(b.idle)
	if d.After(b.end) {
		d = b.end
	}
	_ = b.rc.SetReadDeadline(d)
	return b.ReadCloser.Read(p)
}

// refuse answers a request whose body may be unread with its error, and
// closes the connection after the answer rather than reading the rest
// of the body to keep it open.
func refuse(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Connection", "close")
	writeError(w, r, err)
}

// slots counts what each owner has under way on this node.
type slots struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *slots) take(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	if s.n[key] >= uploadsAtOnce {
		return false
	}
	s.n[key]++
	return true
}

func (s *slots) give(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[key]--; s.n[key] <= 0 {
		delete(s.n, key)
	}
}
