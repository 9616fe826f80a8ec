package main

import (
	"encoding/json"
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

// TestDeployMLOpsStacksRender plans and deploys MLOps Stacks renders (the
// Unity Catalog and the workspace-registry variants) to the emulator: every
// job is created, no ${...} reaches a deployed setting, and the resources
// brickci does not deploy are named.
func TestDeployMLOpsStacksRender(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		jobs        int
		skip        string
		notDeployed []string
	}{
		{"mlops-uc", 4, "experiments,registered_models,quality_monitors", []string{`experiments "experiment"`, `registered_models "model"`, `quality_monitors "churn_model_quality_monitor"`}},
		{"mlops-workspace", 3, "experiments,models", []string{`experiments "experiment"`, `models "model"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, url := serveEmulator(t, emulator.Config{})
			dir := filepath.Join("..", "..", "internal", "bundle", "testdata", "real", c.name)
			env := map[string]string{"DATABRICKS_TOKEN": "tok",
				"GITHUB_SHA": "4f9c1e0b7a2d3c4b5a69788796a5b4c3d2e1f0a9", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}
			if code, out, errOut := runMain(env, "plan", "-t", "staging", "--host", url, "--bundle", dir); code != 0 || !strings.Contains(out, "create job model_training_job") {
				t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
			}
			// Without --skip-unsupported the deploy stops, naming each
			// resource it cannot deploy, before it changes anything.
			code, _, errOut := runMain(env, "deploy", "-t", "staging", "--host", url, "--bundle", dir)
			if code != exitFailed {
				t.Fatalf("deploy without --skip-unsupported: exit %d, want %d\n%s", code, exitFailed, errOut)
			}
			for _, r := range c.notDeployed {
				if !strings.Contains(errOut, r+" is not deployed by brickci") {
					t.Errorf("stderr does not say %s is not deployed:\n%s", r, errOut)
				}
			}
			if n := len(srv.Jobs("tok")); n != 0 {
				t.Fatalf("a refused deploy created %d jobs", n)
			}
			code, _, errOut = runMain(env, "deploy", "-t", "staging", "--host", url, "--bundle", dir, "--skip-unsupported", c.skip)
			if code != 0 {
				t.Fatalf("deploy: exit %d\n%s", code, errOut)
			}
			for _, r := range c.notDeployed {
				if !strings.Contains(errOut, r+" is skipped (--skip-unsupported") {
					t.Errorf("stderr does not say %s is skipped:\n%s", r, errOut)
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
		})
	}
}
