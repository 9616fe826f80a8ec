package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/brickci/brickci/internal/demo"
	"github.com/brickci/brickci/internal/emulator"
)

// runMain runs brickci with a map for its environment and returns the exit
// code, stdout and stderr.
func runMain(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// readOutputs parses a GITHUB_OUTPUT file the way the runner does.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no outputs written: %v", err)
	}
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			if lines[i] != "" {
				t.Fatalf("unexpected output line %q", lines[i])
			}
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}

func TestMainDispatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"deplyo"}, nil, 2, `brickci: unknown mode "deplyo"; did you mean "deploy"?`},
		{[]string{"xyz"}, nil, 2, `brickci: unknown mode "xyz"; modes are deploy, destroy, generate, lint, plan, run, test, validate (see 'brickci -h')`},
		{[]string{"lint", "--nope"}, nil, 2, "brickci lint: flag provided but not defined: -nope (see 'brickci lint -h')"},
		{nil, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_MODE": "nope"}, 2, `brickci: unknown mode "nope"`},
		{[]string{"lint"}, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_FAIL_LEVEL": "fatal"}, 2, `--fail-level: unknown severity "fatal"`},
		{[]string{"lint"}, map[string]string{"GITHUB_ACTIONS": "true", "INPUT_ALLOW_TAGS": "maybe"}, 2, `input allow_tags: invalid value "maybe"`},
	}
	for _, c := range cases {
		code, stdout, stderr := runMain(c.env, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v %v: exit %d, stderr %q, stdout %q; want %d and one line with %q", c.args, c.env, code, stderr, stdout, c.code, c.want)
		}
	}
	if code, stdout, _ := runMain(nil, "--help"); code != 0 || !strings.Contains(stdout, "validate") {
		t.Errorf("--help: %d %q", code, stdout)
	}
}

// TestBareCommandPrintsUsage checks that brickci without a mode lists every
// mode on a line of its own with its summary, and exits 2.
func TestBareCommandPrintsUsage(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runMain(nil)
	if code != exitBadCall || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and usage on stderr", code, stdout)
	}
	if !strings.HasPrefix(stderr, "brickci: missing mode\n") || strings.Contains(stderr, `["`) {
		t.Errorf("stderr:\n%s", stderr)
	}
	for _, name := range modeNames() {
		if !regexp.MustCompile(`(?m)^  ` + name + ` +\S.*$`).MatchString(stderr) {
			t.Errorf("usage lacks a line for %s:\n%s", name, stderr)
		}
	}
}

// TestTargetHelpPerMode checks that -h calls -t repeatable only where the
// mode takes several targets.
func TestTargetHelpPerMode(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"plan", "deploy", "run", "destroy", "test", "validate"} {
		code, stdout, _ := runMain(nil, name, "-h")
		if code != exitOK {
			t.Fatalf("%s -h: exit %d", name, code)
		}
		repeatable := strings.Contains(stdout, "-t TARGET\n    \tbundle TARGET to check (repeatable")
		one := strings.Contains(stdout, "-t TARGET\n    \tthe bundle TARGET to work on (one per run)")
		if name == "validate" && !repeatable || name != "validate" && (!one || strings.Contains(stdout, "repeatable, or comma")) {
			t.Errorf("%s -h describes -t wrongly:\n%s", name, stdout)
		}
	}
}

// syncBuf is a bytes.Buffer safe for a child process's output and a
// polling reader.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUnusableInputExits2 pins the exit-code decision: a target the bundle
// does not define, and a databricks.yml that does not parse, are input
// brickci cannot use, so every mode exits 2 and still prints the finding.
func TestUnusableInputExits2(t *testing.T) {
	t.Parallel()
	const good, broken = "../../examples/rag-chatbot", "../../internal/bundle/testdata/bad/yaml-malformed"
	env := map[string]string{"DATABRICKS_HOST": "http://127.0.0.1:9", "DATABRICKS_TOKEN": "dapi-x"}
	modes := [][]string{
		{"validate"}, {"plan"}, {"deploy"}, {"run", "model_workflow"}, {"destroy", "--auto-approve"},
		{"test", "--integration", "model_workflow"},
	}
	for _, m := range modes {
		for _, c := range []struct {
			dir, target, want string
		}{
			{good, "nope", `target "nope" is not defined; defined targets are ["dev" "test" "staging" "prod"] [unknown-target]`},
			{broken, "staging", "invalid YAML: found unexpected end of stream [yaml]"},
		} {
			args := append([]string{m[0], "--bundle", c.dir, "-t", c.target}, m[1:]...)
			code, stdout, stderr := runMain(env, args...)
			if code != exitBadCall || !strings.Contains(stdout+stderr, c.want) || !strings.Contains(stdout+stderr, "databricks.yml:") {
				t.Errorf("%v: exit %d, want 2 with %q\n%s%s", args, code, c.want, stdout, stderr)
			}
		}
	}
}

// TestBundleFromSpec runs the workspace modes at a repository root without
// --bundle: the bundle directory comes from the spec's bundle: key and one
// line says so, on stderr, or inside the JSON with --format json. It
// changes the working directory, so it cannot run in parallel.
func TestBundleFromSpec(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proj/databricks.yml", "bundle:\n  name: spec_found\ntargets:\n  dev:\n    default: true\n")
	write(".github/pipeline.yaml", "project: p\nbundle: proj\n")
	t.Chdir(root)
	const note = "using bundle proj (bundle: in .github/pipeline.yaml)"

	code, stdout, stderr := runMain(nil, "validate", "--offline")
	if code != exitOK || !strings.Contains(stdout, `bundle "spec_found"`) || !strings.Contains(stderr, "brickci validate: "+note+"\n") {
		t.Errorf("validate: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, stdout, stderr = runMain(nil, "validate", "--offline", "--format", "json")
	if code != exitOK || stderr != "" || !strings.Contains(stdout, note) {
		t.Errorf("validate --format json: exit %d, the note belongs in the JSON\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// -t nope fails once the bundle is found: the message names its file.
	for _, args := range [][]string{{"plan"}, {"deploy"}, {"destroy", "--auto-approve"}, {"run", "job"}, {"test", "--integration", "job"}} {
		code, _, stderr = runMain(nil, append([]string{args[0], "-t", "nope"}, args[1:]...)...)
		if code != exitBadCall || !strings.Contains(stderr, "brickci "+args[0]+": "+note) || !strings.Contains(stderr, "proj/databricks.yml") {
			t.Errorf("%s: exit %d\n%s", args[0], code, stderr)
		}
	}

	if err := os.Remove(filepath.Join(root, ".github/pipeline.yaml")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runMain(nil, "validate")
	if code != exitBadCall || !strings.Contains(stderr, "pass --bundle DIR") || !strings.Contains(stderr, ".github/pipeline.yaml") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("without a spec: exit %d\n%s", code, stderr)
	}
	// A mode's own checks come first: the bundle is looked for only when
	// the mode needs it.
	code, _, stderr = runMain(nil, "deploy")
	if code != exitBadCall || stderr != "brickci deploy: missing target: pass -t TARGET\n" {
		t.Errorf("deploy without -t: exit %d\n%s", code, stderr)
	}
}

// writeFiles writes files (slash paths relative to dir) into dir; a .sh
// file is made executable.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// helloBundle is a bundle with one notebook job, the smallest a deploy has
// something to create for; writeBundle adds the notebook it names.
const helloBundle = "bundle:\n  name: demo\ntargets:\n  dev:\n    default: true\nresources:\n  jobs:\n    hello:\n      name: hello\n      tasks:\n        - task_key: main\n          notebook_task:\n            notebook_path: ./nb.py\n"

// writeBundle writes databricks.yml with the given content and the
// notebook nb.py into a new directory and returns it.
func writeBundle(t *testing.T, databricksYML string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"databricks.yml": databricksYML, "nb.py": "# Databricks notebook source\nprint(1)\n"})
	return dir
}

// serveEmulator starts a workspace emulator configured with cfg (the zero
// Config for none) for the test on loopback and returns it with its URL.
func serveEmulator(t *testing.T, cfg emulator.Config) (*emulator.Server, string) {
	t.Helper()
	srv := emulator.New()
	if err := srv.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	if err := srv.Seed("", demo.ExampleSeed); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// serveComments starts a fake GitHub pull-request comments API for the
// test and returns it with its URL.
func serveComments(t *testing.T) (*fakeComments, string) {
	t.Helper()
	api := &fakeComments{comments: map[int64]string{}}
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	return api, ts.URL
}

// TestProjectFromSpec runs the workspace modes at the root of a repository
// whose spec lists two projects: without --project or --bundle they ask
// for one, --project picks its bundle, and validate checks the spec's
// project against its own bundle only. It changes the working directory,
// so it cannot run in parallel.
func TestProjectFromSpec(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"chat/databricks.yml":  "bundle:\n  name: chat\ntargets:\n  staging: {default: true}\n  prod: {}\nresources:\n  jobs:\n    model_workflow:\n      name: m\n      tasks:\n        - task_key: t\n          notebook_task: {notebook_path: /Shared/nb}\n",
		"batch/databricks.yml": "bundle:\n  name: batch\ntargets:\n  staging: {default: true}\n  prod: {}\n",
		".github/pipeline.yaml": "action: ./\ntargets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n" +
			"projects:\n  - project: chat\n    bundle: chat\n    targets:\n      test: {auth: {type: pat, token-secret: T}}\n    release: {run: [model_workflow]}\n" +
			"  - project: batch\n    bundle: batch\n",
	})
	t.Chdir(root)

	code, _, stderr := runMain(nil, "validate", "--offline")
	if code != exitBadCall || !strings.Contains(stderr, "lists several projects (chat, batch); pass --project NAME") {
		t.Errorf("no project: exit %d\n%s", code, stderr)
	}
	// Each project is checked against its own bundle: the chat bundle
	// lacks the test target its project names; the batch bundle is
	// complete, and the chat project's needs are not held against it.
	code, stdout, stderr := runMain(nil, "validate", "--offline", "--format", "text", "--project", "chat", "-t", "staging")
	if code != exitFailed || !strings.Contains(stdout+stderr, `"test"`) || !strings.Contains(stderr, "using bundle chat (project chat in .github/pipeline.yaml)") {
		t.Errorf("--project chat: exit %d, want %d naming the missing test target\n%s%s", code, exitFailed, stdout, stderr)
	}
	code, stdout, stderr = runMain(nil, "validate", "--offline", "--format", "text", "--project", "batch", "-t", "staging", "-t", "prod")
	if code != exitOK || !strings.Contains(stdout, `bundle "batch"`) {
		t.Errorf("--project batch: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runMain(nil, "validate", "--offline", "--format", "text", "--bundle", "batch", "-t", "prod")
	if code != exitOK || strings.Contains(stdout+stderr, "model_workflow") {
		t.Errorf("--bundle batch: exit %d; the chat project's release job was checked against the batch bundle\n%s%s", code, stdout, stderr)
	}
	// The shared pull-request comment keeps one section per project.
	api, url := serveComments(t)
	env := prEnv(t, url)
	for _, p := range []string{"chat", "batch"} {
		runMain(env, "validate", "--offline", "--project", p, "-t", "staging", "--comment")
	}
	api.mu.Lock()
	bodies := fmt.Sprint(api.comments)
	api.mu.Unlock()
	if len(api.comments) != 1 || !strings.Contains(bodies, "brickci-section:validate-chat") || !strings.Contains(bodies, "brickci-section:validate-batch") {
		t.Errorf("want one comment with a validate section per project:\n%s", bodies)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--offline", "--project", "chatt"}, `project "chatt" is not in .github/pipeline.yaml; did you mean "chat"?`},
		{[]string{"validate", "--offline", "--project", "chat", "--bundle", "batch"}, `--bundle batch is not the bundle of project "chat" (chat)`},
		{[]string{"plan", "-t", "nope", "--project", "batch"}, "batch/databricks.yml"},
		{[]string{"deploy", "-t", "nope", "--project", "batch"}, "using bundle batch (project batch in .github/pipeline.yaml)"},
	} {
		if code, _, stderr := runMain(nil, c.args...); code != exitBadCall || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 with %q\n%s", c.args, code, c.want, stderr)
		}
	}
}
