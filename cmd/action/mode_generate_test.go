package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakePulls is the part of the GitHub REST API that generate --pull-request
// uses: list, create and edit pull requests, and request reviewers.
type fakePulls struct {
	mu        sync.Mutex
	prs       []map[string]any
	edits     int
	reviewers []string
}

func (f *fakePulls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	switch {
	case r.Method == http.MethodGet && path == "/repos/o/r/pulls":
		head, base := r.URL.Query().Get("head"), r.URL.Query().Get("base")
		out := []map[string]any{}
		for _, pr := range f.prs {
			if "o:"+pr["head"].(map[string]any)["ref"].(string) == head && pr["base"].(map[string]any)["ref"] == base {
				out = append(out, pr)
			}
		}
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && path == "/repos/o/r/pulls":
		n := len(f.prs) + 1
		pr := map[string]any{"number": n, "title": body["title"], "body": body["body"], "state": "open",
			"html_url": fmt.Sprintf("https://github.example/o/r/pull/%d", n),
			"head":     map[string]any{"ref": body["head"]}, "base": map[string]any{"ref": body["base"]},
			"user": map[string]any{"login": "github-actions[bot]"}}
		f.prs = append(f.prs, pr)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(pr)
	case r.Method == http.MethodPatch && strings.HasPrefix(path, "/repos/o/r/pulls/"):
		var n int
		fmt.Sscanf(strings.TrimPrefix(path, "/repos/o/r/pulls/"), "%d", &n)
		if n < 1 || n > len(f.prs) {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		f.edits++
		f.prs[n-1]["title"], f.prs[n-1]["body"] = body["title"], body["body"]
		json.NewEncoder(w).Encode(f.prs[n-1])
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/requested_reviewers"):
		for _, v := range body["reviewers"].([]any) {
			f.reviewers = append(f.reviewers, v.(string))
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"number": 1}`)
	default:
		http.Error(w, `{"message":"unexpected `+r.Method+` `+path+`"}`, http.StatusNotFound)
	}
}

// genRepo is a checkout of a repository whose remote is a local bare
// repository, with workflows generated from its spec on main.
type genRepo struct {
	dir, remote string
	env         map[string]string
}

func newGenRepo(t *testing.T, api string) *genRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	base := t.TempDir()
	r := &genRepo{dir: filepath.Join(base, "work"), remote: filepath.Join(base, "remote.git")}
	home := filepath.Join(base, "home")
	os.MkdirAll(home, 0o755)
	r.env = map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": api + "/api/v3",
		"GITHUB_TOKEN": "ghs_sentinel_token", "GITHUB_ACTOR": "alice",
		"PATH": os.Getenv("PATH"), "HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
	}
	write := func(rel, content string) {
		p := filepath.Join(r.dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	action, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	write("action.yml", string(action))
	write("bundle/databricks.yml", "bundle:\n  name: demo\n")
	write(".github/pipeline.yaml", genSpec("ubuntu-latest"))
	r.git(t, "", "init", "-q", "--bare", r.remote)
	r.git(t, r.dir, "init", "-q", "-b", "main")
	if code, out, errOut := r.main("generate"); code != 0 || !strings.Contains(errOut, ".github/pipeline.yaml:1:1: warning: generate.token-secret is not set") {
		t.Fatalf("generate: exit %d, want 0 and the generate-token warning\n%s\n%s", code, out, errOut)
	}
	r.git(t, r.dir, "add", "-A")
	r.git(t, r.dir, "commit", "-q", "-m", "init")
	r.git(t, r.dir, "push", "-q", r.remote, "main")
	return r
}

func genSpec(runner string) string {
	return `project: demo
bundle: bundle
action: ./
runner: ` + runner + `
targets:
  staging: {environment: staging, auth: {type: pat, token-secret: STAGING_TOKEN}}
  prod: {environment: prod, auth: {type: pat, token-secret: PROD_TOKEN}}
`
}

func (r *genRepo) git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+r.env["HOME"], "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *genRepo) main(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append(args, "--root", r.dir), func(k string) string { return r.env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func (r *genRepo) remoteRef(t *testing.T, ref string) string {
	t.Helper()
	cmd := exec.Command("git", "--git-dir", r.remote, "rev-parse", "--verify", "-q", ref)
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out))
}

func TestGeneratePullRequestOpensThenUpdatesOne(t *testing.T) {
	t.Parallel()
	api := &fakePulls{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	r := newGenRepo(t, srv.URL)
	remoteFlag := "file://" + r.remote

	if err := os.WriteFile(filepath.Join(r.dir, ".github/pipeline.yaml"), []byte(genSpec("ubuntu-24.04")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := r.main("generate", "--pull-request", "--remote", remoteFlag)
	if code != 0 || !strings.Contains(out, "opened pull request https://github.example/o/r/pull/1") {
		t.Fatalf("first run: %d\n%s\n%s", code, out, errOut)
	}
	first := r.remoteRef(t, "refs/heads/brickci/regenerate-demo")
	if first == "" {
		t.Fatal("branch not pushed")
	}
	if got := r.git(t, "", "--git-dir", r.remote, "show", first+":.github/workflows/demo-bundle-ci.yml"); !strings.Contains(got, "runs-on: ubuntu-24.04") {
		t.Errorf("pushed workflow does not carry the spec change:\n%s", got)
	}

	if err := os.WriteFile(filepath.Join(r.dir, ".github/pipeline.yaml"), []byte(genSpec("ubuntu-22.04")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = r.main("generate", "--pull-request", "--remote", remoteFlag)
	if code != 0 || !strings.Contains(out, "updated pull request https://github.example/o/r/pull/1") {
		t.Fatalf("second run: %d\n%s\n%s", code, out, errOut)
	}
	second := r.remoteRef(t, "refs/heads/brickci/regenerate-demo")
	if second == "" || second == first {
		t.Errorf("branch not moved: %s → %s", first, second)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.prs) != 1 || api.edits != 1 {
		t.Errorf("pull requests = %d, edits = %d; want one pull request edited once", len(api.prs), api.edits)
	}
	if body := api.prs[0]["body"].(string); !strings.Contains(body, "`.github/workflows/demo-bundle-ci.yml`") {
		t.Errorf("body does not list the changed files:\n%s", body)
	}
	if strings.Join(api.reviewers, ",") != "alice,alice" {
		t.Errorf("reviewers = %v, want the actor on each run", api.reviewers)
	}
	if strings.Contains(strings.ReplaceAll(out+errOut, "::add-mask::ghs_sentinel_token", ""), "ghs_sentinel_token") {
		t.Errorf("token printed:\n%s\n%s", out, errOut)
	}
}

func TestGeneratePullRequestWithoutChangePushesNothing(t *testing.T) {
	t.Parallel()
	api := &fakePulls{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	r := newGenRepo(t, srv.URL)
	code, out, errOut := r.main("generate", "--pull-request", "--remote", "file://"+r.remote)
	if code != 0 || !strings.Contains(out, "already match") {
		t.Fatalf("run: %d\n%s\n%s", code, out, errOut)
	}
	if ref := r.remoteRef(t, "refs/heads/brickci/regenerate-demo"); ref != "" {
		t.Errorf("branch pushed without a change: %s", ref)
	}
	if len(api.prs) != 0 {
		t.Errorf("pull request opened without a change")
	}
}

func TestGenerateCheckAndBadCalls(t *testing.T) {
	t.Parallel()
	r := newGenRepo(t, "http://127.0.0.1:1")
	if code, out, _ := r.main("generate", "--check"); code != 0 || !strings.Contains(out, "in sync") {
		t.Fatalf("check on a fresh repo: %d %s", code, out)
	}
	// The lint timeout changes one workflow: only it drifts, at the
	// changed line, though every file records the spec's hash.
	os.WriteFile(filepath.Join(r.dir, ".github/pipeline.yaml"), []byte(genSpec("ubuntu-latest")+"timeout-minutes: {lint: 15}\n"), 0o644)
	if code, out, errOut := r.main("generate", "--check"); code != 1 || strings.Count(out, "the spec changed") != 1 || !strings.Contains(out, ".github/workflows/lint-cicd-workflow-files.yml:29:23: the spec changed") || !strings.Contains(errOut, `run "genworkflows" or "brickci generate"`) {
		t.Fatalf("check after a spec edit: %d\n%s\n%s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "--check", "--pull-request"}, "cannot be combined"},
		{[]string{"generate", "--spec", "nope.yaml"}, `spec "nope.yaml" does not exist`},
		{[]string{"generate", "extra"}, `unexpected argument "extra"`},
	} {
		code, _, errOut := r.main(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, errOut, c.want)
		}
	}
	os.WriteFile(filepath.Join(r.dir, ".github/pipeline.yaml"), []byte("project: demo\nbundel: x\n"), 0o644)
	code, _, errOut := r.main("generate")
	if code != 2 || !strings.Contains(errOut, ".github/pipeline.yaml:2:1:") {
		t.Errorf("bad spec: exit %d\n%s", code, errOut)
	}
}

// A spec target the bundle lacks is reported by --check and added to
// databricks.yml by generate, in the same pull request as the workflows.
func TestGenerateAddsMissingTargetsToTheBundle(t *testing.T) {
	t.Parallel()
	api := &fakePulls{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	r := newGenRepo(t, srv.URL)
	before, err := os.ReadFile(filepath.Join(r.dir, "bundle/databricks.yml"))
	if err != nil {
		t.Fatal(err)
	}
	spec := genSpec("ubuntu-latest") + "  qa: {environment: qa, host: https://qa.example.com, auth: {type: pat, token-secret: QA_TOKEN}}\n"
	os.WriteFile(filepath.Join(r.dir, ".github/pipeline.yaml"), []byte(spec), 0o644)
	code, out, errOut := r.main("generate", "--check")
	if code != 1 || !strings.Contains(out, `bundle/databricks.yml: the bundle does not define target "qa"`) {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = r.main("generate", "--pull-request", "--remote", "file://"+r.remote)
	if code != 0 || !strings.Contains(out, `added target "qa" to bundle/databricks.yml`) {
		t.Fatalf("generate: exit %d\n%s\n%s", code, out, errOut)
	}
	ref := r.remoteRef(t, "refs/heads/brickci/regenerate-demo")
	pushed := r.git(t, "", "--git-dir", r.remote, "show", ref+":bundle/databricks.yml")
	if !strings.HasPrefix(pushed+"\n", string(before)) || !strings.Contains(pushed, "  qa:\n    workspace:\n      host: https://qa.example.com") {
		t.Errorf("pushed bundle file does not keep the original and add qa:\n%s", pushed)
	}
	if code, out, _ := r.main("generate", "--check"); code != 0 {
		t.Errorf("check after generate: exit %d\n%s", code, out)
	}
}

// A spec with projects: has one pull request for the repository: it holds
// every project's workflows, and the deletion of a removed project's.
func TestGeneratePullRequestMonorepo(t *testing.T) {
	t.Parallel()
	api := &fakePulls{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	r := newGenRepo(t, srv.URL)
	remoteFlag := "file://" + r.remote
	const multi = `action: ./
targets:
  staging: {auth: {type: pat, token-secret: STAGING_TOKEN}}
  prod: {auth: {type: pat, token-secret: PROD_TOKEN}}
projects:
  - project: demo
    bundle: bundle
  - project: other
    bundle: other
`
	for rel, content := range map[string]string{
		"other/databricks.yml":  "bundle:\n  name: other\ntargets:\n  staging: {}\n  prod: {}\n",
		".github/pipeline.yaml": multi,
	} {
		p := filepath.Join(r.dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := r.main("generate", "--pull-request", "--remote", remoteFlag)
	if code != 0 || !strings.Contains(out, "opened pull request https://github.example/o/r/pull/1") {
		t.Fatalf("first run: %d\n%s\n%s", code, out, errOut)
	}
	head := r.remoteRef(t, "refs/heads/brickci/regenerate-all")
	if head == "" {
		t.Fatal("branch brickci/regenerate-all not pushed")
	}
	files := r.git(t, "", "--git-dir", r.remote, "ls-tree", "-r", "--name-only", head, ".github/workflows/")
	for _, want := range []string{"demo-bundle-ci.yml", "demo-bundle-cd-prod.yml", "other-bundle-ci.yml", "other-bundle-cd-staging.yml", "deploy-cicd.yml"} {
		if !strings.Contains(files, ".github/workflows/"+want) {
			t.Errorf("the pull request lacks %s:\n%s", want, files)
		}
	}
	if got := r.git(t, "", "--git-dir", r.remote, "show", head+":.github/workflows/deploy-cicd.yml"); !strings.Contains(got, "group: deploy-cicd\n") {
		t.Errorf("deploy-cicd.yml keeps the project's group:\n%s", got)
	}
	api.mu.Lock()
	title := api.prs[0]["title"]
	api.mu.Unlock()
	if title != "Regenerate all workflows" {
		t.Errorf("title = %q", title)
	}

	// The pull request is merged; then, without the other project, its
	// files' deletion goes in the same pull request.
	r.git(t, r.dir, "add", "-A")
	r.git(t, r.dir, "commit", "-q", "-m", "merge the regeneration")
	r.git(t, r.dir, "push", "-q", r.remote, "main")
	if err := os.WriteFile(filepath.Join(r.dir, ".github/pipeline.yaml"), []byte(strings.Split(multi, "  - project: other\n")[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = r.main("generate", "--pull-request", "--remote", remoteFlag)
	if code != 0 || !strings.Contains(out, "updated pull request https://github.example/o/r/pull/1") {
		t.Fatalf("second run: %d\n%s\n%s", code, out, errOut)
	}
	head = r.remoteRef(t, "refs/heads/brickci/regenerate-all")
	files = r.git(t, "", "--git-dir", r.remote, "ls-tree", "-r", "--name-only", head, ".github/workflows/")
	if strings.Contains(files, "other-") || !strings.Contains(files, "demo-bundle-ci.yml") {
		t.Errorf("after removing a project the pull request holds:\n%s", files)
	}
}
