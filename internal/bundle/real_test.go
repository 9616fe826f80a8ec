package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gitinfo"
)

// ciEnv is the GitHub Actions context of a push to main.
var ciEnv = map[string]string{
	"GITHUB_ACTIONS":    "true",
	"GITHUB_EVENT_NAME": "push",
	"GITHUB_REF":        "refs/heads/main",
	"GITHUB_REF_NAME":   "main",
	"GITHUB_SHA":        "4f9c1e0b7a2d3c4b5a69788796a5b4c3d2e1f0a9",
	"GITHUB_SERVER_URL": "https://github.com",
	"GITHUB_REPOSITORY": "acme/churn",
}

// TestRealBundles loads bundles in the shapes users bring — MLOps Stacks
// renders for Unity Catalog and the workspace registry, and bundles written
// after the public bundle examples — for every target, as CI would (the
// GitHub Actions context of a push, a known user). None may report an
// error, no ${...} other than a deploy-time resource id may remain in what
// deploy sends, and the findings match testdata/real/<case>.<target>.out.
func TestRealBundles(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"mlops-uc":           {"dev", "staging", "prod", "test"},
		"mlops-workspace":    {"dev", "staging", "prod", "test"},
		"all-resources":      {"dev", "prod"},
		"shared-code/bundle": {"default"},
		"artifacts":          {"default"},
	}
	user := NewUser("someone@example.com")
	for name, targets := range cases {
		for _, target := range targets {
			t.Run(name+"/"+target, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join("testdata", "real", filepath.FromSlash(name))
				b, l, err := Load(LoadOptions{Dir: dir, Target: target, CurrentUser: &user, Getenv: func(k string) string { return ciEnv[k] }})
				if err != nil {
					t.Fatal(err)
				}
				if l.AtLeast(diag.Error) {
					t.Errorf("errors in a real bundle:\n%v", l)
				}
				if b == nil {
					t.Fatal("nil bundle")
				}
				for k, j := range b.Jobs {
					checkNoRefs(t, "job "+k, j.Config)
				}
				for k, e := range b.ServingEndpoints {
					checkNoRefs(t, "serving endpoint "+k, e.Config)
				}
				var buf bytes.Buffer
				if err := diag.WriteText(&buf, l); err != nil {
					t.Fatal(err)
				}
				out := strings.ReplaceAll(name, "/", "-")
				golden(t, filepath.Join("testdata", "real", out+"."+target+".out"), []byte(filepath.ToSlash(buf.String())))
			})
		}
	}
}

// checkNoRefs fails for any ${...} left in v except references to the id
// of another resource, which only a deploy knows.
func checkNoRefs(t *testing.T, what string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range refPattern.FindAllStringSubmatch(string(data), -1) {
		if !strings.HasPrefix(m[1], "resources.") || !strings.HasSuffix(m[1], ".id") {
			t.Errorf("%s keeps %s", what, m[0])
		}
	}
}

// TestMLOpsStacksGitSourceInfo checks the parameter every MLOps Stacks job
// passes: the origin, branch and commit of the deployment.
func TestMLOpsStacksGitSourceInfo(t *testing.T) {
	t.Parallel()
	user := NewUser("someone@example.com")
	env := map[string]string{}
	for k, v := range ciEnv {
		env[k] = v
	}
	env["GITHUB_EVENT_NAME"] = "pull_request"
	env["GITHUB_REF"] = "refs/pull/7/merge"
	env["GITHUB_REF_NAME"] = "7/merge"
	env["GITHUB_HEAD_REF"] = "feature/better-model"
	checkout := func(string) (gitinfo.Checkout, error) {
		// A pull request's checkout: a detached merge commit.
		return gitinfo.Checkout{Root: "testdata/real", Commit: "1111111111111111111111111111111111111111", OriginURL: "https://github.com/acme/churn.git"}, nil
	}
	b, l, err := Load(LoadOptions{Dir: "testdata/real/mlops-uc", Target: "staging", CurrentUser: &user, Checkout: checkout, Getenv: func(k string) string { return env[k] }})
	if err != nil || l.AtLeast(diag.Error) {
		t.Fatalf("%v %v", err, l)
	}
	want := fmt.Sprintf("url:https://github.com/acme/churn.git; branch:feature/better-model; commit:%s", ciEnv["GITHUB_SHA"])
	tasks := b.Jobs["model_training_job"].Config["tasks"].([]any)
	for _, task := range tasks {
		nt := task.(map[string]any)["notebook_task"].(map[string]any)
		if got := nt["base_parameters"].(map[string]any)["git_source_info"]; got != want {
			t.Errorf("git_source_info = %q, want %q", got, want)
		}
	}
	wantGit := Git{OriginURL: "https://github.com/acme/churn.git", Branch: "feature/better-model", ActualBranch: "feature/better-model", Commit: ciEnv["GITHUB_SHA"], BundleRootPath: "mlops-uc", Inferred: true}
	if b.Git != wantGit {
		t.Errorf("Git = %+v, want %+v", b.Git, wantGit)
	}
}
