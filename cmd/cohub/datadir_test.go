package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/cohub/cohub/internal/redistest"
	"github.com/cohub/cohub/internal/wsclient"
	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/rooms/boltstore"
)

// journey is what a first run leaves behind: an agent's sign-in, a
// session with a customer link, a chat message and a file.
type journey struct {
	token, admin, session, link, asset string
	file                               []byte
	// invitation is the outbox's newest message.
	invitation string
}

// startOn runs cohub's main in a child process on the data directory
// dir and returns it with its base URL.
func startOn(t *testing.T, dir string) (*child, string) {
	t.Helper()
	c := startMain(t, "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json")
	var listening struct{ Addr string }
	_ = json.Unmarshal([]byte(c.await(t, "cohub listening")), &listening)
	return c, "http://" + listening.Addr
}

func stop(t *testing.T, c *child) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if code := c.wait(t); code != 0 {
		t.Fatalf("cohub exited with %d:\n%s", code, c.allStderr())
	}
}

// firstRun signs the demo agent in from the logins file, starts a
// session with the Sales "sign" template (its PDF is a file), meets the
// customer in the room and returns what the next run must still have.
func firstRun(t *testing.T, base, dir string) journey {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(dir, "demo-logins.txt"))
	noErr(t, err)
	m := regexp.MustCompile(`agent\s+(alex@cohub\.local)\s+(\S+)`).FindStringSubmatch(string(text))
	if m == nil {
		t.Fatalf("logins file holds:\n%s", text)
	}
	a := regexp.MustCompile(`admin\s+(admin@cohub\.local)\s+(\S+)`).FindStringSubmatch(string(text))
	j := journey{token: login(t, base, m[1], m[2]), admin: login(t, base, a[1], a[2])}
	var s struct{ ID string }
	call(t, "POST", base+"/api/sessions", j.token, `{"mode":"start","customer":{"name":"Cara","email":"cara@example.com"}}`, &s)
	j.session = s.ID
	var link struct{ URL string }
	call(t, "POST", base+"/api/sessions/"+s.ID+"/link", j.token, "", &link)
	j.link = link.URL[strings.LastIndex(link.URL, "/")+1:]
	if code := call(t, "POST", base+"/api/sessions/"+s.ID+"/tasks", j.token, `{"template":0}`, nil); code != 201 {
		t.Fatalf("sign task: %d", code)
	}
	j.asset, j.file = firstAsset(t, base, j.token, s.ID)
	j.invitation = newestInvitation(t, base, j.admin)
	meet(t, base, base, strings.TrimPrefix(j.token, "Bearer "), j.link, s.ID)
	return j
}

func firstAsset(t *testing.T, base, token, session string) (string, []byte) {
	t.Helper()
	var list struct{ Assets []struct{ ID string } }
	call(t, "GET", base+"/api/sessions/"+session+"/assets", token, "", &list)
	if len(list.Assets) == 0 {
		t.Fatal("the session has no file")
	}
	req, _ := http.NewRequest("GET", base+"/api/sessions/"+session+"/assets/"+list.Assets[0].ID, nil)
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	noErr(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("file download: %d, %d bytes", res.StatusCode, len(body))
	}
	return list.Assets[0].ID, body
}

func newestInvitation(t *testing.T, base, admin string) string {
	t.Helper()
	var outbox struct{ Messages []struct{ Body string } }
	call(t, "GET", base+"/api/outbox", admin, "", &outbox)
	if len(outbox.Messages) == 0 {
		t.Fatal("the outbox is empty")
	}
	return outbox.Messages[0].Body
}

// stillThere checks a later run has the first run's sign-in, session,
// link, room log and file.
func stillThere(t *testing.T, base string, j journey) {
	t.Helper()
	if code := call(t, "GET", base+"/api/me", j.token, "", nil); code != 200 {
		t.Fatalf("the agent was signed out: /api/me %d", code)
	}
	if got := newestInvitation(t, base, j.admin); got != j.invitation {
		t.Fatalf("the outbox's newest invitation is %q, was %q", got, j.invitation)
	}
	if code := call(t, "GET", base+"/api/customer/session", "Link "+j.link, "", nil); code != 200 {
		t.Fatalf("the customer's link stopped working: %d", code)
	}
	var evs struct{ Events []struct{ Text string } }
	call(t, "GET", base+"/api/sessions/"+j.session+"/events", j.token, "", &evs)
	said := false
	for _, e := range evs.Events {
		said = said || e.Text == "hello from the customer"
	}
	if !said {
		t.Fatalf("the room log lost the customer's message: %+v", evs)
	}
	if id, body := firstAsset(t, base, j.token, j.session); id != j.asset || !bytes.Equal(body, j.file) {
		t.Fatalf("the file changed: %s (%d bytes), was %s (%d bytes)", id, len(body), j.asset, len(j.file))
	}
	// And the room goes on where it was: the first run's send is known
	// (a resend of it is answered, not logged again), a new one is logged.
	agent := dialWS(t, base, wsclient.Agent(strings.TrimPrefix(j.token, "Bearer ")))
	cust := dialWS(t, base, wsclient.Customer(j.link, ""))
	say(t, agent, cust, j.session, "c-after-"+strconv.Itoa(len(evs.Events)), "back after the restart")
}

// TestRestartKeepsEverything runs the binary as the README does, on its
// default embedded backend: a second start on a held directory is
// refused naming the holder; a backup is taken while it runs; after a
// restart the sign-in, session, link, room log and file are all there
// and no new demo logins are made; the backup restores into a directory
// that a new server runs on with the same data.
func TestRestartKeepsEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cohub-data")
	c, base := startOn(t, dir)
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v %v", info, err)
	}
	j := firstRun(t, base, dir)

	second := startMain(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if code := second.wait(t); code != 2 || !strings.Contains(second.allStderr(), "is in use by process "+strconv.Itoa(c.cmd.Process.Pid)) {
		t.Fatalf("a second start on a held directory: exit %d:\n%s", code, second.allStderr())
	}
	backup := filepath.Join(t.TempDir(), "cohub.tar")
	var out bytes.Buffer
	if code := runCommand(context.Background(), "backup", []string{"--data-dir", dir, backup}, noEnv, &out, &out); code != 0 {
		t.Fatalf("backup of a running server: %d %s", code, out.String())
	}
	out.Reset()
	if code := runCommand(context.Background(), "restore", []string{"--data-dir", dir, "--replace", backup}, noEnv, &out, &out); code == 0 ||
		!strings.Contains(out.String(), "in use by process") {
		t.Fatalf("restore over a live directory: %d %s", code, out.String())
	}
	stop(t, c)

	c, base = startOn(t, dir)
	logins, _ := os.ReadFile(filepath.Join(dir, "demo-logins.txt"))
	if !strings.Contains(c.allStderr(), "demo logins (made at first start) are in "+filepath.Join(dir, "demo-logins.txt")) {
		t.Fatalf("a restart does not say where the demo logins are:\n%s", c.allStderr())
	}
	stillThere(t, base, j)
	if again, _ := os.ReadFile(filepath.Join(dir, "demo-logins.txt")); !bytes.Equal(again, logins) {
		t.Fatal("a restart made new demo logins")
	}
	stop(t, c)

	restored := filepath.Join(t.TempDir(), "restored")
	out.Reset()
	if code := runCommand(context.Background(), "restore", []string{"--data-dir", restored, backup}, noEnv, &out, &out); code != 0 {
		t.Fatalf("restore: %d %s", code, out.String())
	}
	checkBackupNames(t, backup)
	c, base = startOn(t, restored)
	stillThere(t, base, j)
	stop(t, c)
}

func noEnv(string) string { return "" }

// checkBackupNames: a backup holds the store, the secret, the demo
// logins and the blobs.
func checkBackupNames(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	noErr(t, err)
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		noErr(t, err)
		names[strings.SplitN(hdr.Name, "/", 2)[0]] = true
	}
	for _, want := range []string{"cohub.db", "secret", "demo-logins.txt", "blobs"} {
		if !names[want] {
			t.Errorf("the backup has no %s: %v", want, names)
		}
	}
}

// TestMigrateToRedis: a pilot's directory (a session with its log and a
// file) copied by cohub migrate into an empty Redis serves the same
// through the API of a node on that Redis: the agent signs in with the
// same password, the customer's link works, the log is whole and
// verifies with the same chain head, the file has the same bytes.
func TestMigrateToRedis(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cohub-data")
	c, base := startOn(t, dir)
	j := firstRun(t, base, dir)
	var before struct {
		OK   bool
		Head string
	}
	call(t, "GET", base+"/api/sessions/"+j.session+"/verify", j.token, "", &before)
	if !before.OK || before.Head == "" {
		t.Fatalf("the pilot's log does not verify: %+v", before)
	}
	stop(t, c)
	read := readTo(t, dir, j.session)

	srv := redistest.Start(t)
	files := "file://" + filepath.ToSlash(t.TempDir())
	var out bytes.Buffer
	args := []string{"--from-data-dir", dir, "--redis", "redis://" + srv.Addr, "--blob-url", files}
	if code := runCommand(context.Background(), "migrate", args, noEnv, &out, &out); code != 0 {
		t.Fatalf("migrate: %d %s", code, out.String())
	}
	if code := runCommand(context.Background(), "migrate", args, noEnv, &out, &out); code == 0 || !strings.Contains(out.String(), "already holds accounts") {
		t.Fatalf("a second migrate into the same Redis: %d %s", code, out.String())
	}
	secret, err := os.ReadFile(filepath.Join(dir, "secret"))
	noErr(t, err)
	node := startMain(t, "--addr", "127.0.0.1:0", "--redis", "redis://"+srv.Addr, "--secret", strings.TrimSpace(string(secret)),
		"--blob-url", files, "--log-format", "json")
	var listening struct{ Addr string }
	_ = json.Unmarshal([]byte(node.await(t, "cohub listening")), &listening)
	base = "http://" + listening.Addr

	logins, _ := os.ReadFile(filepath.Join(dir, "demo-logins.txt"))
	m := regexp.MustCompile(`agent\s+(alex@cohub\.local)\s+(\S+)`).FindStringSubmatch(string(logins))
	j.token = login(t, base, m[1], m[2])
	a := regexp.MustCompile(`admin\s+(admin@cohub\.local)\s+(\S+)`).FindStringSubmatch(string(logins))
	j.admin = login(t, base, a[1], a[2])
	var after struct {
		OK   bool
		Head string
	}
	call(t, "GET", base+"/api/sessions/"+j.session+"/verify", j.token, "", &after)
	if !after.OK || after.Head != before.Head {
		t.Fatalf("the migrated log verifies %+v, was %+v", after, before)
	}
	stillThere(t, base, j)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if got, err := rdb.HGet(context.Background(), rooms.KeyPrefix+"{"+j.session+"}:read", rooms.ReaderCustomer).Int64(); err != nil || got != read {
		t.Fatalf("the customer's read horizon after migrate = %d %v, want %d", got, err, read)
	}
	stop(t, node)
}

// readTo marks a stopped directory's session read by its customer to
// the log's end, and returns that seq.
func readTo(t *testing.T, dir, id string) int64 {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(dir, "cohub.db"), boltstore.Options{})
	noErr(t, err)
	defer st.Close()
	ctx := context.Background()
	seq, _, err := st.LastSeq(ctx, id)
	noErr(t, err)
	if _, raised, err := st.RaiseHorizon(ctx, id, rooms.ReaderCustomer, seq); err != nil || !raised {
		t.Fatalf("raise the customer's horizon to %d: %v %v", seq, raised, err)
	}
	return seq
}

// TestMemoryStoreSaysSo: --store memory keeps nothing on disk and says
// at start that everything is lost when the process stops.
func TestMemoryStoreSaysSo(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	cfg, err := parseConfig([]string{"--store", "memory"}, noEnv)
	noErr(t, err)
	var logs bytes.Buffer
	s, err := build(context.Background(), cfg, zerolog.New(&logs))
	noErr(t, err)
	s.close()
	if s.Backend.Name != "memory" || !strings.Contains(logs.String(), "lost when it stops") {
		t.Fatalf("backend %s, log %q", s.Backend.Name, logs.String())
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Fatalf("--store memory wrote %v", entries)
	}
}
