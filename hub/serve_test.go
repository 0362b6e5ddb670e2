package hub

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
)

// What net/http read ahead of the upgrade is the first thing the small
// reader gives, then the connection's own bytes.
func TestSmallReaderKeepsReadAhead(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	big := bufio.NewReaderSize(io.MultiReader(strings.NewReader("ahead|"), server), 4096)
	if _, err := big.Peek(6); err != nil {
		t.Fatal(err)
	}
	small := smallReader(server, big)
	if small == big || small.Size() != readBuffer {
		t.Fatalf("kept net/http's reader (size %d)", small.Size())
	}
	go func() { _, _ = client.Write([]byte("after")) }()
	got := make([]byte, len("ahead|after"))
	if _, err := io.ReadFull(small, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "ahead|after" {
		t.Fatalf("read %q", got)
	}
}

// More read ahead than the small reader holds keeps net/http's reader.
func TestSmallReaderKeepsBigReadAhead(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	ahead := strings.Repeat("x", readBuffer+1)
	big := bufio.NewReaderSize(io.MultiReader(strings.NewReader(ahead), server), 4096)
	if _, err := big.Peek(len(ahead)); err != nil {
		t.Fatal(err)
	}
	if smallReader(server, big) != big {
		t.Fatal("replaced a reader holding more than fits")
	}
}
