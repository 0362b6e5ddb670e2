package lbconf

import (
	"os"
	"strings"
	"testing"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The shipped nginx.conf renders to loopback addresses only, each node
// once, with everything else as shipped.
func TestNginxRendersShippedFile(t *testing.T) {
	src := read(t, "nginx.conf")
	out, err := Nginx(src, 18080, []int{18081, 18082, 18083}, "/tmp/run", map[string]string{"proxy_read_timeout": "12s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen 127.0.0.1:18080;", "server 127.0.0.1:18081 max_fails", "server 127.0.0.1:18082 max_fails",
		"server 127.0.0.1:18083 max_fails", "proxy_read_timeout 12s;", "proxy_pass http://cohub;",
		"error_log /tmp/run/error.log crit;"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered nginx.conf lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cohub1:") || strings.Contains(out, "listen 80") || strings.Contains(out, "/var/log") {
		t.Errorf("left a shipped address:\n%s", out)
	}
}

// A file that no longer has what is rewritten is refused, not run as
// something else.
func TestNginxRefusesWhatItCannotRender(t *testing.T) {
	src := read(t, "nginx.conf")
	cases := map[string]func() (string, error){
		"two nodes": func() (string, error) { return Nginx(src, 1, []int{2, 3}, "/tmp/run", nil) },
		"no listen 80": func() (string, error) {
			return Nginx(strings.Replace(src, "listen 80;", "listen 8080;", 1), 1, []int{2, 3, 4}, "/tmp/run", nil)
		},
		"unknown edit": func() (string, error) {
			return Nginx(src, 1, []int{2, 3, 4}, "/tmp/run", map[string]string{"no_such_directive": "1"})
		},
		"cohub4 of three": func() (string, error) {
			return Nginx(strings.Replace(src, "cohub3:8080", "cohub4:8080", 1), 1, []int{2, 3, 4}, "/tmp/run", nil)
		},
	}
	for name, render := range cases {
		if out, err := render(); err == nil {
			t.Errorf("%s: rendered without error:\n%s", name, out)
		}
	}
}

func TestHAProxyRendersShippedFile(t *testing.T) {
	out, err := HAProxy(read(t, "haproxy.cfg"), 18080, []int{18081, 18082, 18083})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bind 127.0.0.1:18080", "cohub1 127.0.0.1:18081", "cohub3 127.0.0.1:18083"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered haproxy.cfg lacks %q:\n%s", want, out)
		}
	}
}

// The main configuration keeps every path nginx writes under its folder.
func TestNginxMainKeepsPathsUnderDir(t *testing.T) {
	main := NginxMain("/tmp/x", 256)
	for _, want := range []string{"daemon off;", "pid /tmp/x/nginx.pid;", "error_log /tmp/x/error.log", "include /tmp/x/cohub.conf;",
		"proxy_temp_path /tmp/x/proxy;", "client_body_temp_path /tmp/x/client_body;", "worker_connections 256;"} {
		if !strings.Contains(main, want) {
			t.Errorf("main configuration lacks %q:\n%s", want, main)
		}
	}
}
