package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/rooms"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmePasswordsArePrinted: the README's commands name passwords only
// by the variables the printed export line sets, never by placeholders
// that fail without a word.
func TestReadmePasswordsArePrinted(t *testing.T) {
	text := readme(t)
	export := exportLine([]rooms.DemoLogin{{Email: "admin@cohub.local"}, {Email: "sam@cohub.local"},
		{Email: "alex@cohub.local"}, {Email: "riley@cohub.local"}})
	used := regexp.MustCompile(`\$\{?([A-Z]+_PASSWORD)\b`).FindAllStringSubmatch(text, -1)
	if len(used) == 0 {
		t.Fatal("the README uses no printed password")
	}
	for _, u := range used {
		if !strings.Contains(export, " "+u[1]+"=") {
			t.Errorf("the README uses $%s, which %q does not set", u[1], export)
		}
	}
	for _, placeholder := range []string{`"PASSWORD"`, "ADMIN-PASSWORD", "ALEX-PASSWORD"} {
		if strings.Contains(text, placeholder) {
			t.Errorf("the README still has the placeholder %s", placeholder)
		}
	}
}

// TestReadmeRunsAsPasted runs the README's first example with a shell,
// after the export line a console run prints, as a newcomer pastes them:
// it ends with the invitation's customer link.
func TestReadmeRunsAsPasted(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's example needs %s", tool)
		}
	}
	var block string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme(t), -1) {
		if strings.Contains(m[1], "localhost:8080/api/login") {
			block = m[1]
			break
		}
	}
	if block == "" {
		t.Fatal("the README has no login example")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig([]string{"--addr", ln.Addr().String(), "--data-dir", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	console := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, zerolog.Nop(), console, listeners{public: ln}) }()
	defer func() { cancel(); <-done }()
	if code := call(t, "GET", "http://"+ln.Addr().String()+"/healthz", "", "", nil); code != 200 {
		t.Fatalf("healthz: %d", code)
	}

	export := regexp.MustCompile(`(?m)^export .*$`).FindString(console.String())
	script := export + "\n" + strings.ReplaceAll(block, "localhost:8080", ln.Addr().String())
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), cfg.publicURL()+"/c/") {
		t.Fatalf("the README's example (%v):\n%s\nprinted:\n%s", err, script, out)
	}
}
