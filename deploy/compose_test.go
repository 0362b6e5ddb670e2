package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of compose.yaml the test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string
		Build       any
		Command     []string
		Environment map[string]string
		Volumes     []string
		DependsOn   []string `yaml:"depends_on"`
	}
}

// compose.yaml runs: every COHUB_* setting and flag it gives the nodes
// is one the built binary accepts, every service it depends on exists,
// and nginx's upstreams are its nodes on the port they listen on.
func TestComposeMatchesTheBinary(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	accepted := binaryFlags(t)
	var nodes []string
	for name, svc := range cf.Services {
		for _, dep := range svc.DependsOn {
			if _, ok := cf.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
		}
		if svc.Build == nil { // not a Cohub node
			continue
		}
		nodes = append(nodes, name)
		env := svc.Environment
		if env["COHUB_REDIS"] == "" && env["COHUB_REDIS_CLUSTER"] == "" && env["COHUB_REDIS_SENTINEL"] == "" {
			t.Errorf("%s names no Redis: it would run the embedded backend alone", name)
		}
		for _, addr := range strings.Split(env["COHUB_REDIS_SENTINEL"], ",") {
			if host, _, ok := strings.Cut(addr, ":"); ok {
				if _, ok := cf.Services[host]; !ok {
					t.Errorf("%s names sentinel %s, which is not a service", name, host)
				}
			}
		}
		for env := range svc.Environment {
			if !strings.HasPrefix(env, "COHUB_") {
				continue
			}
			if !slices.Contains(accepted, env) {
				t.Errorf("%s sets %s, which cohub does not read (it reads %v)", name, env, accepted)
			}
		}
		for _, arg := range svc.Command {
			if flag, ok := strings.CutPrefix(arg, "--"); ok {
				flag, _, _ = strings.Cut(flag, "=")
				if !slices.Contains(accepted, envOf(flag)) {
					t.Errorf("%s passes --%s, which cohub does not accept", name, flag)
				}
			}
		}
	}
	sort.Strings(nodes)
	if len(nodes) != 3 {
		t.Errorf("compose.yaml runs %d nodes (%v), want 3", len(nodes), nodes)
	}
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var upstreams []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server\s+([a-z0-9-]+):(\d+)`).FindAllStringSubmatch(string(conf), -1) {
		if m[2] != "8080" { // the nodes' default --addr
			t.Errorf("nginx sends to %s:%s; the nodes listen on 8080", m[1], m[2])
		}
		upstreams = append(upstreams, m[1])
	}
	sort.Strings(upstreams)
	if !slices.Equal(upstreams, nodes) {
		t.Errorf("nginx's upstreams %v are not the compose nodes %v", upstreams, nodes)
	}
	if mount := cf.Services["nginx"].Volumes; len(mount) == 0 || !strings.HasPrefix(mount[0], "./nginx.conf:") {
		t.Errorf("nginx does not mount ./nginx.conf: %v", mount)
	}
}

// binaryFlags are the COHUB_* variables the built binary names in its
// --help, one for each flag.
func binaryFlags(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command(cohubBinary(t), "--help")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cohub --help: %v\n%s", err, out)
	}
	var envs []string
	for _, m := range regexp.MustCompile(`\((COHUB_[A-Z0-9_]+)\)`).FindAllStringSubmatch(string(out), -1) {
		envs = append(envs, m[1])
	}
	if len(envs) < 10 || !slices.Contains(envs, "COHUB_REDIS") {
		t.Fatalf("cohub --help names too few settings: %v\n%s", envs, out)
	}
	return envs
}

func envOf(flag string) string {
	return "COHUB_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
