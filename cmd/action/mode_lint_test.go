package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lintRepo writes a repository with one workflow holding n unpinned
// actions (errors) and n checkouts without persist-credentials: false
// (warnings) and returns its root.
func lintRepo(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("name: ci\non: pull_request\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "      - uses: actions/checkout@v4\n")
	}
	if err := os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", "ci.yml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLintOnActions(t *testing.T) {
	t.Parallel()
	const secret = "sentinel-token-5f1c9a"
	root := lintRepo(t, 12)
	run := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       filepath.Join(run, "output"),
		"GITHUB_ENV":          filepath.Join(run, "env"),
		"GITHUB_STEP_SUMMARY": filepath.Join(run, "summary"),
		"INPUT_MODE":          "lint",
		"INPUT_FAIL_LEVEL":    "warning",
		"INPUT_ROOT":          root,
		"INPUT_SARIF_FILE":    filepath.Join(run, "lint.sarif"),
		"INPUT_GITHUB_TOKEN":  secret,
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != exitFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitFailed, stderr.String())
	}

	counts := map[string]int{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "::") {
			cmd, _, _ := strings.Cut(strings.TrimPrefix(line, "::"), " ")
			cmd, _, _ = strings.Cut(cmd, "::")
			counts[cmd]++
		}
		if strings.Contains(line, secret) && line != "::add-mask::"+secret {
			t.Errorf("secret printed outside the mask command: %q", line)
		}
	}
	// 12 errors and 12 warnings, annotated at most 10 per level, and the
	// one note that shellcheck and pyflakes are not on the (empty) PATH.
	if diff := cmp.Diff(map[string]int{"add-mask": 1, "error": 10, "warning": 10, "notice": 1}, counts); diff != "" {
		t.Errorf("workflow commands (-want +got):\n%s", diff)
	}

	summary, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(summary), "`unpinned-action`"); got != 12 {
		t.Errorf("summary lists %d unpinned-action findings, want all 12", got)
	}
	if got := strings.Count(string(summary), "`persist-credentials`"); got != 12 {
		t.Errorf("summary lists %d persist-credentials findings, want all 12", got)
	}
	if !strings.Contains(string(summary), "were not shown as annotations") {
		t.Errorf("summary does not say annotations were dropped:\n%s", summary)
	}

	outputs := readOutputs(t, env["GITHUB_OUTPUT"])
	if diff := cmp.Diff(map[string]string{"result": "failure", "findings": "24"}, outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}

	sarif, err := os.ReadFile(env["INPUT_SARIF_FILE"])
	if err != nil {
		t.Fatalf("sarif file not written: %v", err)
	}
	var doc struct {
		Runs []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif, &doc); err != nil || len(doc.Runs) != 1 || len(doc.Runs[0].Results) != 24 {
		t.Errorf("sarif file: err=%v runs=%+v", err, doc.Runs)
	}

	for name, content := range map[string]string{"summary": string(summary), "outputs": fmt.Sprint(outputs), "sarif": string(sarif), "stderr": stderr.String()} {
		if strings.Contains(content, secret) {
			t.Errorf("secret leaked into %s", name)
		}
	}
}

func TestLintInvocations(t *testing.T) {
	t.Parallel()
	clean := t.TempDir()
	if err := os.MkdirAll(filepath.Join(clean, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := "name: ok\non: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n      - run: make\n"
	if err := os.WriteFile(filepath.Join(clean, ".github", "workflows", "ok.yml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	dirty := lintRepo(t, 1)
	cases := []struct {
		name       string
		args       []string
		code       int
		stderrLine string // when set, stderr must be exactly this one line
		stdoutHas  string
	}{
		{"unknown format", []string{"lint", "--format", "yaml", "--root", clean}, exitBadCall, `brickci lint: unknown format "yaml", valid are ["text" "json" "sarif" "github" "markdown"]`, ""},
		{"bad fail level", []string{"lint", "--fail-level", "fatal", "--root", clean}, exitBadCall, `brickci lint: --fail-level: unknown severity "fatal", valid are ["error" "warning" "info"]`, ""},
		{"missing path", []string{"lint", "--root", clean, "nope.yml"}, exitBadCall, `brickci lint: path "nope.yml" does not exist under "` + clean + `"; pass workflow files or directories`, ""},
		{"missing root", []string{"lint", "--root", filepath.Join(clean, "absent")}, exitBadCall, `brickci lint: root "` + filepath.Join(clean, "absent") + `" is not a directory; pass --root DIR`, ""},
		{"clean json", []string{"lint", "--format", "json", "--root", clean}, exitOK, "", `"errors": 0`},
		{"findings text", []string{"lint", "--root", dirty}, exitFailed, "", `.github/workflows/ci.yml:9:15: "actions/checkout@v4" is pinned by tag`},
		{"tags allowed", []string{"lint", "--allow-tags", "--root", dirty}, exitOK, "", "persist-credentials"},
		{"sarif stdout", []string{"lint", "--format", "sarif", "--root", dirty}, exitFailed, "", `"ruleId": "unpinned-action"`},
		{"info fails at info", []string{"lint", "--fail-level", "info", "--format", "markdown", "--root", clean}, exitFailed, "", "external-tools"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), c.args, func(string) string { return "" }, &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout.String(), stderr.String())
			}
			if c.stderrLine != "" {
				if diff := cmp.Diff(c.stderrLine+"\n", stderr.String()); diff != "" {
					t.Errorf("stderr (-want +got):\n%s", diff)
				}
			}
			if !strings.Contains(stdout.String(), c.stdoutHas) {
				t.Errorf("stdout lacks %q:\n%s", c.stdoutHas, stdout.String())
			}
		})
	}
}

// TestLintSaysWhatItChecked covers lint's one-line results in text format:
// a clean repository gets "no findings in N files", and a repository with
// no workflow files at all exits 0 with a note instead of failing.
func TestLintSaysWhatItChecked(t *testing.T) {
	t.Parallel()
	// Stand-ins for shellcheck and pyflakes, so the result does not depend
	// on whether the real tools are installed. The workflow has no run:
	// steps, so neither is called.
	tools := t.TempDir()
	for _, name := range []string{"shellcheck", "pyflakes"} {
		if err := os.WriteFile(filepath.Join(tools, name), []byte("#!/bin/sh\necho '[]'\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	clean := t.TempDir()
	wf := "name: ci\non: pull_request\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n" +
		"      - uses: actions/setup-go@d35c59abb061a4a6fb18e82ac0862c26744d6ab5 # v5.5.0\n"
	for _, name := range []string{"a.yml", "b.yml"} {
		if err := os.MkdirAll(filepath.Join(clean, ".github", "workflows"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clean, ".github", "workflows", name), []byte(wf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"PATH": tools}
	code, stdout, stderr := runMain(env, "lint", "--root", clean, "--format", "text")
	if code != exitOK || stdout != "no findings in 2 files\n" {
		t.Errorf("clean repository: exit %d, stdout %q, stderr %q; want 0 and %q", code, stdout, stderr, "no findings in 2 files\n")
	}
	code, stdout, stderr = runMain(env, "lint", "--root", t.TempDir(), "--format", "text")
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "no workflow or action files under") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("empty repository: exit %d, stdout %q, stderr %q; want 0 and one note", code, stdout, stderr)
	}
}
