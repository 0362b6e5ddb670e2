package netlimit

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// lockedBuffer is a log written by the accepting goroutine and read by
// the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Past the bound a connection is closed at once and the log says why;
// once one closes, the next is served again.
func TestRefusesPastTheBound(t *testing.T) {
	var logs lockedBuffer
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(inner, 2, zerolog.New(&logs))
	defer l.Close()
	served := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			served <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first, _ := dial(), dial()
	s1, s2 := <-served, <-served
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("the connection past the bound was not closed: %v", err)
	}
	if !strings.Contains(logs.String(), "refusing new connections") {
		t.Fatalf("no log line for the refusal: %q", logs.String())
	}
	if l.Open() != 2 {
		t.Fatalf("open %d, want 2", l.Open())
	}
	first.Close()
	s1.Close()
	s1.Close() // a second close counts once
	s2.Close()
	dial()
	select {
	case c := <-served:
		c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("a connection under the bound again was not served")
	}
	if l.Open() != 0 {
		t.Fatalf("open %d after every close, want 0", l.Open())
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "reset")
}

func TestMaxLeavesAReserve(t *testing.T) {
	if m := Max(); m < 64 {
		t.Fatalf("Max() = %d", m)
	}
}
