package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodSpec = `project: demo
bundle: bundle
action: ./
targets:
  staging: {auth: {type: pat, token-secret: STAGING_TOKEN}}
  prod: {auth: {type: pat, token-secret: PROD_TOKEN}}
tests: {unit: {python: "3.12"}}
`

// repo writes a repository with the spec, a bundle and the action, and
// returns its root.
func repo(t *testing.T, specText string) string {
	t.Helper()
	root := t.TempDir()
	action, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "action.yml"), string(action))
	write(t, filepath.Join(root, "bundle", "databricks.yml"), "bundle: {name: demo}\n")
	write(t, filepath.Join(root, ".github", "pipeline.yaml"), specText)
	return root
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runIn(root string, extra ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"-root", root}, extra...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestGenerateThenCheck(t *testing.T) {
	t.Parallel()
	root := repo(t, goodSpec)
	code, out, errOut := runIn(root)
	if code != 0 {
		t.Fatalf("generate exit %d: %s", code, errOut)
	}
	if got := strings.Count(out, "wrote "); got != 6 {
		t.Errorf("wrote %d files:\n%s", got, out)
	}
	// Without generate.token-secret the files are written, with a warning
	// at the spec's first key.
	if want := ".github/pipeline.yaml:1:1: warning: generate.token-secret is not set"; !strings.Contains(errOut, want) || !strings.Contains(errOut, "[generate-token]") {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	withToken := repo(t, goodSpec+"generate: {token-secret: WORKFLOWS_TOKEN}\n")
	if code, _, errOut := runIn(withToken); code != 0 || errOut != "" {
		t.Errorf("with a token secret: exit %d, stderr %q", code, errOut)
	}
	if code, out, errOut := runIn(root, "-check"); code != 0 {
		t.Fatalf("check right after generate: exit %d\n%s%s", code, out, errOut)
	}
	// A second generate changes nothing.
	if code, out, _ := runIn(root); code != 0 || out != "" {
		t.Errorf("regenerate: exit %d, output %q", code, out)
	}
}

func TestCheckDrift(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(t *testing.T, root string)
		want   []string
		// notWant must not appear: files whose body is unchanged.
		notWant []string
		// code is the exit code of -check (default 1).
		code int
	}{
		{
			name: "edited by hand",
			change: func(t *testing.T, root string) {
				p := filepath.Join(root, ".github", "workflows", "demo-bundle-cd-prod.yml")
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				write(t, p, strings.Replace(string(data), "timeout-minutes: 30", "timeout-minutes: 5", 1))
			},
			want: []string{".github/workflows/demo-bundle-cd-prod.yml:29:22: edited by hand", "-    timeout-minutes: 5", "+    timeout-minutes: 30"},
		},
		{
			name: "spec comment only",
			change: func(t *testing.T, root string) {
				write(t, filepath.Join(root, ".github", "pipeline.yaml"), "# a comment changes the hash, not the workflows\n"+goodSpec)
			},
			code:    0,
			notWant: []string{".yml"},
		},
		{
			name: "spec changed",
			change: func(t *testing.T, root string) {
				write(t, filepath.Join(root, ".github", "pipeline.yaml"), strings.Replace(goodSpec, `"3.12"`, `"3.13"`, 1))
			},
			want:    []string{".github/workflows/demo-run-tests.yml:38:31: the spec changed", `+          python-version: "3.13"`},
			notWant: []string{"deploy-cicd.yml", "demo-bundle-ci.yml", "demo-bundle-cd-prod.yml"},
		},
		{
			name: "missing and stale",
			change: func(t *testing.T, root string) {
				if err := os.Remove(filepath.Join(root, ".github", "workflows", "deploy-cicd.yml")); err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(root, ".github", "pipeline.yaml"), strings.Replace(goodSpec, "tests: {unit: {python: \"3.12\"}}\n", "", 1))
			},
			want: []string{".github/workflows/deploy-cicd.yml: missing", ".github/workflows/demo-run-tests.yml:1:1: stale"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := repo(t, goodSpec)
			if code, _, errOut := runIn(root); code != 0 {
				t.Fatalf("generate: %s", errOut)
			}
			write(t, filepath.Join(root, ".github", "workflows", "go.yml"), "name: hand-written\n")
			c.change(t, root)
			code, out, errOut := runIn(root, "-check")
			wantCode := 1
			if c.want == nil {
				wantCode = c.code
			}
			if code != wantCode {
				t.Fatalf("check exit %d, want %d\n%s%s", code, wantCode, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.notWant {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
			// Without a Go module the fix is the generator, not go generate.
			if code == 1 && (!strings.Contains(errOut, `run "genworkflows" or "brickci generate"`) || strings.Contains(errOut, "go generate")) {
				t.Errorf("stderr does not name genworkflows and brickci generate:\n%s", errOut)
			}
			if strings.Contains(out, "go.yml") {
				t.Errorf("a hand-written workflow was reported:\n%s", out)
			}
			// Generating repairs the drift, removes stale generated files
			// and leaves hand-written ones alone.
			if code, _, errOut := runIn(root); code != 0 {
				t.Fatalf("regenerate: %s", errOut)
			}
			if code, out, _ := runIn(root, "-check"); code != 0 {
				t.Errorf("still drifting after regenerate:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(root, ".github", "workflows", "go.yml")); err != nil {
				t.Errorf("hand-written workflow removed: %v", err)
			}
		})
	}
	t.Run("stale file removed", func(t *testing.T) {
		t.Parallel()
		root := repo(t, goodSpec)
		if code, _, _ := runIn(root); code != 0 {
			t.Fatal("generate failed")
		}
		write(t, filepath.Join(root, ".github", "pipeline.yaml"), strings.Replace(goodSpec, "tests: {unit: {python: \"3.12\"}}\n", "", 1))
		code, out, _ := runIn(root)
		if code != 0 || !strings.Contains(out, "removed .github/workflows/demo-run-tests.yml") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		spec string
		args []string
		code int
		want string
	}{
		{"spec findings", "project: demo\nbundle: bundle\naction: ./\ntargts: {}\n", nil, 2,
			".github/pipeline.yaml:4:1: unknown key \"targts\" in the pipeline spec; did you mean \"targets\"? [spec-unknown-key]"},
		{"spec findings in check mode", "project: demo\nbundle: bundle\naction: ./\ntargts: {}\n", []string{"-check"}, 2, "[spec-target-missing]"},
		{"missing bundle", strings.Replace(goodSpec, "bundle: bundle", "bundle: nowhere", 1), nil, 2,
			".github/pipeline.yaml:2:9: bundle directory \"nowhere\" has no databricks.yml"},
		{"missing spec", goodSpec, []string{"-spec", "nope.yaml"}, 2, "failed to read pipeline spec \"nope.yaml\""},
		{"unknown flag", goodSpec, []string{"-bogus"}, 2, "flag provided but not defined"},
		{"stray argument", goodSpec, []string{"extra"}, 2, "unexpected argument \"extra\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := repo(t, c.spec)
			code, _, errOut := runIn(root, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, errOut)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, errOut)
			}
			if _, err := os.Stat(filepath.Join(root, ".github", "workflows")); err == nil {
				t.Error("workflows were written despite bad input")
			}
		})
	}
}
