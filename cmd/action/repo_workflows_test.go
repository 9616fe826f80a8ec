package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestRepositoryWorkflowsLintClean lints this repository's own workflows,
// generated and hand-written (go.yml, release.yml), as a user's lint step
// would: no errors and no warnings.
func TestRepositoryWorkflowsLintClean(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"lint", "--root", "../..", "--format", "json"}, func(string) string { return "" }, &stdout, &stderr)
	var out struct {
		Findings []struct{ Rule, Severity, Message, File string }
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("exit %d, unreadable output: %v\n%s%s", code, err, stdout.String(), stderr.String())
	}
	for _, f := range out.Findings {
		if f.Severity != "info" {
			t.Errorf("%s: %s: %s [%s]", f.File, f.Severity, f.Message, f.Rule)
		}
	}
	if code != exitOK {
		t.Errorf("lint exit %d, want 0\n%s", code, stderr.String())
	}
}

// TestReleaseWorkflow pins the shape of .github/workflows/release.yml: a
// version tag runs scripts/release.sh, checks the result against the
// committed table and publishes with gh; only the publishing job may
// write, and every action is pinned by sha with its version.
func TestReleaseWorkflow(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../.github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			Push struct{ Tags []string }
		}
		Permissions map[string]string
		Jobs        map[string]struct {
			Needs       []string
			Permissions map[string]string
			Steps       []struct{ Uses, Run string }
		}
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	if len(wf.On.Push.Tags) != 1 || wf.On.Push.Tags[0] != "v*" {
		t.Errorf("release runs on tags %q, want [v*]", wf.On.Push.Tags)
	}
	if wf.Permissions == nil || len(wf.Permissions) != 0 {
		t.Errorf("top-level permissions = %v, want {}", wf.Permissions)
	}
	var scripts strings.Builder
	for id, job := range wf.Jobs {
		for scope, level := range job.Permissions {
			if level == "write" && (id != "release" || scope != "contents") {
				t.Errorf("job %q grants %s: write; only the release job may write, and only contents", id, scope)
			}
		}
		for _, st := range job.Steps {
			scripts.WriteString(st.Run)
			if strings.Contains(st.Run, "${{") {
				t.Errorf("job %q interpolates an expression into a script:\n%s", id, st.Run)
			}
		}
	}
	if got := wf.Jobs["release"].Permissions["contents"]; got != "write" {
		t.Errorf("the release job has contents: %q, want write", got)
	}
	if needs := wf.Jobs["release"].Needs; len(needs) != 1 || needs[0] != "build" {
		t.Errorf("the release job needs %q, want [build]", needs)
	}
	for _, w := range []string{"scripts/release.sh \"$VERSION\"", "git diff --exit-code -- release/checksums.txt release/source.txt", "gh release create \"$VERSION\"", "checksums.txt"} {
		if !strings.Contains(scripts.String(), w) {
			t.Errorf("release.yml scripts lack %q", w)
		}
	}
	pinned := regexp.MustCompile(`^\s+uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v[0-9]+\.[0-9]+\.[0-9]+$`)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "uses:") && !pinned.MatchString(line) {
			t.Errorf("not pinned by sha with a version comment: %q", line)
		}
	}
}
