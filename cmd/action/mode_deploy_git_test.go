package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
	"github.com/brickci/brickci/internal/gittest"
)

// gitRepo makes a git checkout in a temporary directory with an origin
// remote and an MLOps Stacks-like bundle in churn_model/, committed on
// main, and returns its root and a function that runs git in it.
func gitRepo(t *testing.T) (string, func(args ...string) string) {
	t.Helper()
	root := t.TempDir()
	git := gittest.Runner(t, root)
	files := map[string]string{
		"churn_model/databricks.yml": `bundle:
  name: churn_model
include:
  - ./resources/*.yml
targets:
  staging:
    default: true
`,
		"churn_model/resources/model-workflow-resource.yml": `common_permissions: &permissions
  permissions:
    - level: CAN_VIEW
      group_name: users

resources:
  jobs:
    model_training_job:
      name: ${bundle.target}-churn_model-model-training-job
      tasks:
        - task_key: Train
          notebook_task:
            notebook_path: ../training/notebooks/Train.py
            base_parameters:
              env: ${bundle.target}
              git_source_info: url:${bundle.git.origin_url}; branch:${bundle.git.branch}; commit:${bundle.git.commit}
      <<: *permissions
`,
		"churn_model/training/notebooks/Train.py": "# Databricks notebook source\nprint(1)\n",
	}
	for p, content := range files {
		path := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	git("remote", "add", "origin", "https://github.com/acme/churn.git")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	return root, git
}

// deployedGitSourceInfo returns the git_source_info parameter of the one
// deployed job.
func deployedGitSourceInfo(t *testing.T, srv *emulator.Server) string {
	t.Helper()
	js := srv.Jobs("tok")
	if len(js) != 1 {
		t.Fatalf("%d jobs deployed, want 1", len(js))
	}
	for _, s := range js {
		return s.Tasks[0].NotebookTask.BaseParameters["git_source_info"]
	}
	return ""
}

// TestDeployRecordsTheGitCheckout deploys from a real git checkout: the
// jobs' git_source_info and metadata.json hold its origin, branch and
// commit; under a pull_request event the branch is the pull request's head
// branch and the commit GITHUB_SHA, although the checkout is detached.
func TestDeployRecordsTheGitCheckout(t *testing.T) {
	t.Parallel()
	root, git := gitRepo(t)
	commit := git("rev-parse", "HEAD")
	srv, url := serveEmulator(t, emulator.Config{})
	bundleDir := filepath.Join(root, "churn_model")
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok"}
	if code, _, errOut := runMain(env, "deploy", "-t", "staging", "--bundle", bundleDir); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, errOut)
	}
	want := "url:https://github.com/acme/churn.git; branch:main; commit:" + commit
	if got := deployedGitSourceInfo(t, srv); got != want {
		t.Errorf("git_source_info = %q, want %q", got, want)
	}
	var meta struct {
		Config struct {
			Bundle struct {
				Git map[string]any `json:"git"`
			} `json:"bundle"`
		} `json:"config"`
	}
	found := false
	for p, data := range srv.Files("tok") {
		if strings.HasSuffix(p, "/state/metadata.json") {
			found = true
			if err := json.Unmarshal(data, &meta); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !found {
		t.Fatal("no metadata.json written")
	}
	// The CLI's metadata records these four and not actual_branch or inferred.
	wantGit := map[string]any{"origin_url": "https://github.com/acme/churn.git", "branch": "main", "commit": commit, "bundle_root_path": "churn_model"}
	if diff := cmp.Diff(wantGit, meta.Config.Bundle.Git); diff != "" {
		t.Errorf("metadata bundle.git (-want +got):\n%s", diff)
	}

	// A pull request: actions/checkout leaves a detached merge commit.
	git("checkout", "-q", "--detach")
	merge := "9999999999999999999999999999999999999999"
	for k, v := range map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_HEAD_REF": "feature/better-model",
		"GITHUB_REF": "refs/pull/7/merge", "GITHUB_REF_NAME": "7/merge", "GITHUB_SHA": merge, "GITHUB_STEP_SUMMARY": filepath.Join(t.TempDir(), "summary"), "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out")} {
		env[k] = v
	}
	if code, _, errOut := runMain(env, "deploy", "-t", "staging", "--bundle", bundleDir); code != 0 {
		t.Fatalf("deploy in a pull request: exit %d\n%s", code, errOut)
	}
	want = "url:https://github.com/acme/churn.git; branch:feature/better-model; commit:" + merge
	if got := deployedGitSourceInfo(t, srv); got != want {
		t.Errorf("pull request: git_source_info = %q, want %q", got, want)
	}
}

// TestStrictIsTheSameInEveryMode checks that an unknown field warns in
// validate, plan and deploy alike, and with --strict is an error in all
// three that stops plan and deploy before any change.
func TestStrictIsTheSameInEveryMode(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := writeBundle(t, "bundle:\n  name: demo\ntargets:\n  dev:\n    default: true\nresources:\n  jobs:\n    hello:\n      name: hello\n      max_concurent_runs: 2\n      tasks:\n        - task_key: main\n          notebook_task:\n            notebook_path: ./nb.py\n")
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok"}
	finding := `databricks.yml:10:7: %sunknown field "max_concurent_runs" in resources.jobs.hello; did you mean "max_concurrent_runs"? [unknown-field]`
	for _, mode := range []string{"validate", "plan", "deploy"} {
		code, out, errOut := runMain(env, mode, "-t", "dev", "--bundle", dir, "--strict")
		if code != 1 || !strings.Contains(out+errOut, strings.Replace(finding, "%s", "", 1)) {
			t.Errorf("%s --strict: exit %d, want 1 with the error\nstdout: %s\nstderr: %s", mode, code, out, errOut)
		}
		if len(srv.Jobs("tok")) != 0 {
			t.Fatalf("%s --strict changed the workspace", mode)
		}
	}
	for _, mode := range []string{"validate", "plan", "deploy"} {
		code, out, errOut := runMain(env, mode, "-t", "dev", "--bundle", dir)
		if code != 0 || !strings.Contains(out+errOut, strings.Replace(finding, "%s", "warning: ", 1)) {
			t.Errorf("%s: exit %d, want 0 with the warning\nstdout: %s\nstderr: %s", mode, code, out, errOut)
		}
	}
	if len(srv.Jobs("tok")) != 1 {
		t.Error("the job was not deployed despite only a warning")
	}
}

// TestDeployMLOpsStacksRender plans, deploys, redeploys and destroys
// MLOps Stacks renders (the Unity Catalog and the workspace-registry
// variants) against the emulator, with the catalogs, schemas and tables an
// admin makes before a first deploy seeded: every resource is created (the
// jobs, the experiment with its permissions, the model with its grants,
// the quality monitor), no ${...} reaches a deployed setting, a second
// deploy changes nothing, and destroy leaves nothing behind.
func TestDeployMLOpsStacksRender(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		jobs    int
		seed    emulator.Seed
		created []string
	}{
		{"mlops-uc", 4, emulator.Seed{Catalogs: []string{"staging"}, Schemas: []string{"staging.churn_model"}, Tables: []string{"dev.churn_model.predictions"}},
			[]string{"created experiment experiment", "created registered model staging.churn_model.churn_model-model", "created quality monitor on dev.churn_model.predictions"}},
		{"mlops-workspace", 3, emulator.Seed{}, []string{"created experiment experiment", "created model staging-churn_model-model"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, url := serveEmulator(t, emulator.Config{})
			if err := srv.Seed("tok", c.seed); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("..", "..", "internal", "bundle", "testdata", "real", c.name)
			env := map[string]string{"DATABRICKS_TOKEN": "tok",
				"GITHUB_SHA": "4f9c1e0b7a2d3c4b5a69788796a5b4c3d2e1f0a9", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}
			code, out, errOut := runMain(env, "plan", "-t", "staging", "--host", url, "--bundle", dir)
			if code != 0 || !strings.Contains(out, "create job model_training_job") || !strings.Contains(out, "create experiment experiment") {
				t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
			}
			if strings.Contains(errOut, "not deployed by brickci") {
				t.Errorf("plan names resources brickci does not deploy:\n%s", errOut)
			}
			code, _, errOut = runMain(env, "deploy", "-t", "staging", "--host", url, "--bundle", dir)
			if code != 0 {
				t.Fatalf("deploy: exit %d\n%s", code, errOut)
			}
			for _, want := range c.created {
				if !strings.Contains(errOut, want) {
					t.Errorf("deploy does not say %q:\n%s", want, errOut)
				}
			}
			js := srv.Jobs("tok")
			if len(js) != c.jobs {
				t.Errorf("%d jobs deployed, want %d", len(js), c.jobs)
			}
			for id, s := range js {
				data, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				if i := strings.Index(string(data), "${"); i >= 0 {
					t.Errorf("job %d (%s) keeps a reference: ...%s", id, s.Name, string(data)[i:min(len(data), i+60)])
				}
				if !strings.HasPrefix(s.Name, "staging-churn_model-") {
					t.Errorf("job name %q", s.Name)
				}
			}
			if n := len(srv.Experiments("tok")); n != 1 {
				t.Errorf("%d experiments, want 1", n)
			}
			switch c.name {
			case "mlops-uc":
				if _, ok := srv.RegisteredModels("tok")["staging.churn_model.churn_model-model"]; !ok {
					t.Errorf("registered model not created: %v", srv.RegisteredModels("tok"))
				}
				g := srv.Grants("tok")
				if fmt.Sprint(g) == "map[]" || !strings.Contains(fmt.Sprint(g), "account users") {
					t.Errorf("grants of the registered model not set: %v", g)
				}
				if len(srv.Monitors("tok")) != 1 {
					t.Errorf("quality monitor not created: %v", srv.Monitors("tok"))
				}
			case "mlops-workspace":
				if len(srv.Models("tok")) != 1 {
					t.Errorf("model not created: %v", srv.Models("tok"))
				}
			}
			before := len(srv.Requests())
			code, _, errOut = runMain(env, "deploy", "-t", "staging", "--host", url, "--bundle", dir)
			if code != 0 || !strings.Contains(errOut, "no changes") {
				t.Errorf("second deploy: exit %d, want 0 and no changes\n%s", code, errOut)
			}
			for _, r := range srv.Requests()[before:] {
				if r.Method != http.MethodGet {
					t.Errorf("second deploy sent %s %s", r.Method, r.Path)
				}
			}
			if code, _, errOut := runMain(env, "destroy", "-t", "staging", "--host", url, "--bundle", dir, "--auto-approve"); code != 0 {
				t.Fatalf("destroy: exit %d\n%s", code, errOut)
			}
			left := len(srv.Jobs("tok")) + len(srv.RegisteredModels("tok")) + len(srv.Monitors("tok")) + len(srv.Models("tok"))
			for _, e := range srv.Experiments("tok") {
				if e.LifecycleStage != "deleted" {
					left++
				}
			}
			if left != 0 {
				t.Errorf("destroy left %d resources behind", left)
			}
		})
	}
}
