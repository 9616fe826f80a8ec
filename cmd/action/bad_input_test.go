package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// tmpPath matches temporary directories in messages.
var tmpPath = regexp.MustCompile(`/tmp/[\w.-]+`)

// badCase is one input brickci must refuse or report: how to run it and
// what to run it on.
type badCase struct {
	name string
	args []string
	env  map[string]string
}

// badCorpus gathers every bad input the repository holds: specs, bundles,
// workflows and JUnit reports from the packages' testdata, and action
// inputs from testdata/bad/inputs. Paths are relative to the repository
// root, where the test runs.
func badCorpus(t *testing.T) []badCase {
	t.Helper()
	var cases []badCase
	noTools := t.TempDir()
	glob := func(pattern string) []string {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(m)
		return m
	}
	for _, f := range glob("internal/spec/testdata/bad/*.yaml") {
		cases = append(cases, badCase{name: "spec/" + filepath.Base(f), args: []string{"generate", "--check", "--root", ".", "--spec", f}})
	}
	// A spec that does not parse is unreadable input in every mode that
	// reads it, not only in generate.
	for _, f := range []string{"internal/spec/testdata/bad/syntax.yaml", "internal/spec/testdata/bad/syntax-block.yaml"} {
		cases = append(cases,
			badCase{name: "spec-in-validate/" + filepath.Base(f), args: []string{"validate", "--offline", "--bundle", "examples/rag-chatbot", "--spec", f}},
			badCase{name: "spec-in-lint/" + filepath.Base(f), args: []string{"lint", "--format", "text", "--root", filepath.Dir(f), "--spec", filepath.Base(f)}, env: map[string]string{"PATH": noTools}})
	}
	// The GitHub context of a push names every ${bundle.git.*} value, so
	// the findings do not depend on whether the repository is a checkout.
	// (bundle/git-unknown, which is about missing git details, is left to
	// internal/bundle's own cases for that reason.)
	root, _ := os.Getwd()
	gitEnv := map[string]string{"PATH": os.Getenv("PATH"), "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_REF": "refs/heads/main",
		"GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "brickci/brickci", "GITHUB_WORKSPACE": root}
	for _, d := range glob("internal/bundle/testdata/bad/*") {
		if st, err := os.Stat(d); err == nil && st.IsDir() && filepath.Base(d) != "git-unknown" {
			cases = append(cases, badCase{name: "bundle/" + filepath.Base(d), args: []string{"validate", "--offline", "--fail-level", "warning", "--bundle", d}, env: gitEnv})
		}
	}
	for _, f := range glob("internal/lint/testdata/*/bad_*.yml") {
		// An empty PATH: lint's external-tools note is then the same on every
		// machine, with or without shellcheck and pyflakes installed.
		cases = append(cases, badCase{name: "workflow/" + filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f), args: []string{"lint", "--format", "text", "--fail-level", "info", "--root", filepath.Dir(f), filepath.Base(f)},
			env: map[string]string{"PATH": noTools}})
	}
	for _, name := range []string{"malformed.xml", "empty.xml", "wrong-root.xml"} {
		abs, err := filepath.Abs(filepath.Join("internal/testrun/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, badCase{name: "junit/" + name, args: []string{"test", "--unit", "--bundle", "examples/rag-chatbot", "--command", "cp " + abs + " {junit}"}})
	}
	cases = append(cases, hostileCases(t)...)
	for _, f := range glob("testdata/bad/inputs/*.env") {
		env := map[string]string{"GITHUB_ACTIONS": "true", "PATH": os.Getenv("PATH"), "INPUT_HOST": "http://127.0.0.1:9"}
		file, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				env[k] = v
			}
		}
		file.Close()
		cases = append(cases, badCase{name: "inputs/" + filepath.Base(f), env: env})
	}
	return cases
}

// hostileCases are the inputs of a hostile review that cannot be committed
// (too big, or symbolic links): each is generated here.
func hostileCases(t *testing.T) []badCase {
	t.Helper()
	noTools := t.TempDir()
	var cases []badCase
	tmp := t.TempDir()
	huge := hugeInputs(t, tmp)
	for _, name := range []string{"depth", "nodes", "size"} {
		data, err := os.ReadFile(huge[name])
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(tmp, name)
		wf := filepath.Join(dir, ".github", "workflows")
		if err := os.MkdirAll(wf, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"databricks.yml", "pipeline.yaml", ".github/workflows/ci.yml"} {
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cases = append(cases,
			badCase{name: "limit/" + name + "/bundle", args: []string{"validate", "--offline", "--bundle", dir}},
			badCase{name: "limit/" + name + "/spec", args: []string{"generate", "--check", "--root", dir, "--spec", "pipeline.yaml"}},
			badCase{name: "limit/" + name + "/workflow", args: []string{"lint", "--format", "text", "--root", dir}, env: map[string]string{"PATH": noTools}})
	}
	// A notebook that is a link out of the bundle, and includes from
	// outside it (a parent directory, a link).
	parent := filepath.Join(tmp, "links")
	dir := filepath.Join(parent, "bundle")
	for _, d := range []string{filepath.Join(dir, "resources"), filepath.Join(dir, "notebooks")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(parent, "outside.py"): "# Databricks notebook source\nprint(1)\n",
		filepath.Join(parent, "up.yml"):     "resources: {}\n",
		filepath.Join(dir, "databricks.yml"): "bundle:\n  name: links\ninclude:\n  - ../up.yml\n  - resources/*.yml\n" +
			"resources:\n  jobs:\n    j:\n      name: j\n      tasks:\n        - task_key: t\n          notebook_task:\n            notebook_path: notebooks/nb.py\n" +
			"targets:\n  dev:\n    default: true\n    workspace:\n      host: https://example.cloud.databricks.com\n",
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		filepath.Join(dir, "notebooks", "nb.py"):    filepath.Join(parent, "outside.py"),
		filepath.Join(dir, "resources", "link.yml"): filepath.Join(parent, "up.yml"),
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	cases = append(cases, badCase{name: "bundle/symlinks-out", args: []string{"validate", "--offline", "--bundle", dir}})
	return cases
}

// TestBadInputCorpus runs brickci on every bad input and pins its exit code
// (2 for unusable input, 1 for findings) and what it says, in
// testdata/bad-inputs.golden. No input may panic or exit 0.
func TestBadInputCorpus(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	var got strings.Builder
	for _, c := range badCorpus(t) {
		env := c.env
		if env == nil {
			env = map[string]string{"PATH": os.Getenv("PATH")}
		}
		code, stdout, stderr := runMain(env, c.args...)
		if code != exitBadCall && code != exitFailed {
			t.Errorf("%s: exit %d, want 1 or 2\n%s%s", c.name, code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, "panic") || strings.Contains(stdout+stderr, "goroutine ") {
			t.Errorf("%s: looks like a crash:\n%s%s", c.name, stdout, stderr)
		}
		fmt.Fprintf(&got, "== %s: exit %d\n", c.name, code)
		for _, l := range strings.Split(strings.TrimSpace(stderr+stdout), "\n") {
			// The lint output of a bad workflow pins its rule elsewhere;
			// keep finding lines and the message lines brickci writes.
			if l == "" || strings.HasPrefix(l, "::") {
				continue
			}
			l = strings.ReplaceAll(l, root, "<root>")
			l = tmpPath.ReplaceAllString(l, "<tmp>")
			got.WriteString(l + "\n")
		}
	}
	golden := filepath.Join(root, "cmd/action/testdata/bad-inputs.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("bad-input corpus (-want +got):\n%s", diff)
	}
}
