package boltstore_test

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cohub/cohub/rooms/boltstore"
	"github.com/cohub/cohub/rooms/storetest"
)

// TestKillNine kills a process that writes to the store (kill -9, at a
// random moment of its traffic) 50 times, and after each kill checks
// that the file opens and holds every change the process was told was
// done: the message at the seq it got, and a log without holes.
func TestKillNine(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	writer := buildKillWriter(t)
	path := filepath.Join(t.TempDir(), "cohub.db")
	acked := map[int64]string{}
	for i := range kills {
		for seq, text := range runAndKill(t, writer, path, 1+rand.IntN(40)) {
			acked[seq] = text
		}
		checkAcked(t, path, acked, i)
	}
}

// runAndKill starts a writer on path and kills it once it has
// acknowledged after changes; it returns every change the writer
// acknowledged before it died (seq → text).
func runAndKill(t *testing.T, writer, path string, after int) map[int64]string {
	cmd := exec.Command(writer, path)
	out, err := cmd.StdoutPipe()
	storetest.Must(t, err)
	cmd.Stderr = os.Stderr
	storetest.Must(t, cmd.Start())
	acked := map[int64]string{}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		seq, text, ok := strings.Cut(lines.Text(), " ")
		n, err := strconv.ParseInt(seq, 10, 64)
		if !ok || err != nil {
			t.Fatalf("the writer printed %q", lines.Text())
		}
		acked[n] = text
		if len(acked) == after {
			_ = cmd.Process.Kill() // SIGKILL: no defer, no close, no flush
			break
		}
	}
	for lines.Scan() { // what it wrote before the kill landed
		if seq, text, ok := strings.Cut(lines.Text(), " "); ok {
			if n, err := strconv.ParseInt(seq, 10, 64); err == nil {
				acked[n] = text
			}
		}
	}
	_ = cmd.Wait()
	if len(acked) < after {
		t.Fatalf("the writer stopped by itself after %d changes", len(acked))
	}
	return acked
}

func checkAcked(t *testing.T, path string, acked map[int64]string, kill int) {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{LockWait: 5 * time.Second})
	if err != nil {
		t.Fatalf("after kill %d the store does not open: %v", kill+1, err)
	}
	defer st.Close()
	evs, err := st.Events(context.Background(), "s_kill", 0, 0)
	storetest.Must(t, err)
	got := make(map[int64]string, len(evs))
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("after kill %d: event %d has seq %d (a hole)", kill+1, i+1, e.Seq)
		}
		got[e.Seq] = e.Text
	}
	for seq, text := range acked {
		if got[seq] != text {
			t.Fatalf("after kill %d: acknowledged seq %d (%q) reads %q: lost", kill+1, seq, text, got[seq])
		}
	}
}

// buildKillWriter builds internal/killwriter, the process to kill.
func buildKillWriter(t *testing.T) string {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "killwriter")
	out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/cohub/cohub/rooms/boltstore/internal/killwriter").CombinedOutput()
	if err != nil {
		t.Fatalf("go build killwriter: %v\n%s", err, out)
	}
	return bin
}
