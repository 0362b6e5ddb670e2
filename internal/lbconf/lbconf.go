// Package lbconf renders the load balancer files deploy/ ships for a run
// on loopback: only the front's listen address and the upstream nodes'
// addresses change, so what runs is the shipped file itself. deploy's
// tests and the soak (cohub-soak --nginx) share it; deploy/bench-nodes.sh
// makes the same substitutions with sed.
package lbconf

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

var (
	nginxServer   = regexp.MustCompile(`(?m)^(\s*server\s+)cohub(\d+):8080\b`)
	nginxListen   = regexp.MustCompile(`(?m)^(\s*listen\s+)80;`)
	nginxErrorLog = regexp.MustCompile(`(?m)^(\s*error_log\s+)/var/log/nginx/`)
	haproxyServer = regexp.MustCompile(`(?m)^(\s*server\s+cohub(\d+)\s+)cohub\d+:8080\b`)
	haproxyBind   = regexp.MustCompile(`(?m)^(\s*bind\s+):80\b`)
)

// Nginx is deploy/nginx.conf (conf) with `listen 80;` on 127.0.0.1:front,
// `server cohubN:8080` on 127.0.0.1:upstreams[N-1] and error logs under
// logDir instead of /var/log/nginx (their levels kept). edit, when set,
// changes more directives' values (a test of a shorter timeout). It
// fails when the file no longer has exactly what is rewritten, rather
// than run something else than what ships.
func Nginx(conf string, front int, upstreams []int, logDir string, edit map[string]string) (string, error) {
	out, err := servers(nginxServer, conf, upstreams)
	if err != nil {
		return "", fmt.Errorf("nginx.conf: %w", err)
	}
	if !nginxListen.MatchString(out) {
		return "", fmt.Errorf("nginx.conf has no `listen 80;` to render")
	}
	out = nginxListen.ReplaceAllString(out, fmt.Sprintf("${1}127.0.0.1:%d;", front))
	out = nginxErrorLog.ReplaceAllStringFunc(out, func(m string) string {
		return nginxErrorLog.FindStringSubmatch(m)[1] + logDir + "/"
	})
	for directive, value := range edit {
		re := regexp.MustCompile(`(?m)^(\s*` + regexp.QuoteMeta(directive) + `\s+)[^;]+;`)
		if !re.MatchString(out) {
			return "", fmt.Errorf("nginx.conf has no %s", directive)
		}
		out = re.ReplaceAllString(out, "${1}"+value+";")
	}
	return out, nil
}

// NginxMain is a main configuration that includes dir/cohub.conf (the
// rendered file: deploy/nginx.conf is a conf.d file) and keeps every
// path nginx writes under dir: one worker in the foreground, with room
// for connections descriptors.
func NginxMain(dir string, connections int) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // its workers write under dir too
	}
	return fmt.Sprintf(`%s
daemon off;
worker_processes 1;
worker_rlimit_nofile %[3]d;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections %[3]d; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/cohub.conf;
}
`, user, dir, connections)
}

// HAProxy is deploy/haproxy.cfg (conf) with `bind :80` on
// 127.0.0.1:front and each `server cohubN cohubN:8080` on
// 127.0.0.1:upstreams[N-1].
func HAProxy(conf string, front int, upstreams []int) (string, error) {
	out, err := servers(haproxyServer, conf, upstreams)
	if err != nil {
		return "", fmt.Errorf("haproxy.cfg: %w", err)
	}
	if !haproxyBind.MatchString(out) {
		return "", fmt.Errorf("haproxy.cfg has no `bind :80` to render")
	}
	return haproxyBind.ReplaceAllString(out, fmt.Sprintf("${1}127.0.0.1:%d", front)), nil
}

// servers points the Nth upstream (its number is re's second group) at
// 127.0.0.1:upstreams[N-1].
func servers(re *regexp.Regexp, conf string, upstreams []int) (string, error) {
	if got := len(re.FindAllString(conf, -1)); got != len(upstreams) {
		return "", fmt.Errorf("names %d upstream nodes, the run has %d", got, len(upstreams))
	}
	var bad error
	out := re.ReplaceAllStringFunc(conf, func(m string) string {
		sub := re.FindStringSubmatch(m)
		i, err := strconv.Atoi(sub[2])
		if err != nil || i < 1 || i > len(upstreams) {
			bad = fmt.Errorf("upstream cohub%s is not one of cohub1…cohub%d", sub[2], len(upstreams))
			return m
		}
		return fmt.Sprintf("%s127.0.0.1:%d", sub[1], upstreams[i-1])
	})
	return out, bad
}

// Bin finds a Debian program (nginx, haproxy): on the PATH, or where it is installed
// (/usr/sbin is not on every user's PATH).
func Bin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not installed (apt-get install %s)", name, name)
}
