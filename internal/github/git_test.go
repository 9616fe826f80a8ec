package github

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const regenBranch = "brickci/regenerate-rag_chatbot"

// gitEnv is a hermetic environment for git: no system or user
// configuration, a fixed identity.
func gitEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + filepath.Join(home, "gitconfig"),
		"GIT_AUTHOR_NAME=Test Author", "GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Author", "GIT_COMMITTER_EMAIL=author@example.com",
	}
}

// gitRepos is a working clone and its bare remote.
type gitRepos struct {
	t          *testing.T
	env        []string
	work, bare string
}

func (g *gitRepos) git(dir string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, g.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (g *gitRepos) write(path, content string) {
	g.t.Helper()
	p := filepath.Join(g.work, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// remoteRef returns the remote's commit for a branch, or "".
func (g *gitRepos) remoteRef(branch string) string {
	g.t.Helper()
	cmd := exec.Command("git", "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	cmd.Dir, cmd.Env = g.bare, g.env
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out))
}

func newGitRepos(t *testing.T) *gitRepos {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	g := &gitRepos{t: t, env: gitEnv(t), work: filepath.Join(dir, "work"), bare: filepath.Join(dir, "remote.git")}
	g.git(dir, "init", "--quiet", "--bare", "--initial-branch=main", g.bare)
	g.git(dir, "init", "--quiet", "--initial-branch=main", g.work)
	g.write("README.md", "# rag\n")
	g.write(".github/workflows/ci.yml", "name: ci\n")
	g.write(".github/workflows/old.yml", "name: old\n")
	g.git(g.work, "add", ".")
	g.git(g.work, "commit", "--quiet", "-m", "initial")
	g.git(g.work, "remote", "add", "origin", "file://"+g.bare)
	g.git(g.work, "push", "--quiet", "origin", "main")
	return g
}

func (g *gitRepos) push(files ...string) PushResult {
	g.t.Helper()
	res, err := Git{Env: g.env}.CommitAndPush(context.Background(), g.work, regenBranch, "main", "Regenerate workflows", files, "origin", "", Identity{})
	if err != nil {
		g.t.Fatal(err)
	}
	return res
}

func TestCommitAndPushTwiceUpdatesOneBranch(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	mainSHA := g.git(g.work, "rev-parse", "HEAD")
	// Unrelated local work must be neither committed nor disturbed.
	g.write("notes.txt", "scratch\n")
	g.write("README.md", "# rag (edited)\n")
	g.git(g.work, "add", "README.md")
	statusBefore := g.git(g.work, "status", "--porcelain")

	g.write(".github/workflows/ci.yml", "name: ci v1\n")
	first := g.push(".github/workflows/ci.yml")
	if !first.Changed || !first.Pushed || first.Commit == "" || g.remoteRef(regenBranch) != first.Commit {
		t.Fatalf("first push %+v, remote at %q", first, g.remoteRef(regenBranch))
	}

	g.write(".github/workflows/ci.yml", "name: ci v2\n")
	g.write(".github/workflows/new.yml", "name: new\n")
	if err := os.Remove(filepath.Join(g.work, ".github/workflows/old.yml")); err != nil {
		t.Fatal(err)
	}
	second := g.push(".github/workflows/ci.yml", ".github/workflows/new.yml", ".github/workflows/old.yml")
	if !second.Pushed || second.Commit == first.Commit || g.remoteRef(regenBranch) != second.Commit {
		t.Fatalf("second push %+v, remote at %q", second, g.remoteRef(regenBranch))
	}

	if diff := cmp.Diff(regenBranch+"\nmain", g.git(g.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads")); diff != "" {
		t.Errorf("remote branches (-want +got):\n%s", diff)
	}
	// Regenerated from HEAD, not stacked on the previous run.
	if got := g.git(g.bare, "rev-parse", second.Commit+"^"); got != mainSHA {
		t.Errorf("parent = %s, want HEAD %s", got, mainSHA)
	}
	changed := g.git(g.bare, "diff-tree", "--no-commit-id", "--name-status", "-r", mainSHA, second.Commit)
	want := "M\t.github/workflows/ci.yml\nA\t.github/workflows/new.yml\nD\t.github/workflows/old.yml"
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("committed changes (-want +got):\n%s", diff)
	}
	if got := g.git(g.bare, "show", second.Commit+":.github/workflows/ci.yml"); got != "name: ci v2" {
		t.Errorf("remote ci.yml = %q", got)
	}
	if got := g.git(g.bare, "log", "-1", "--format=%an <%ae>|%cn|%s", second.Commit); got != "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|github-actions[bot]|Regenerate workflows" {
		t.Errorf("commit = %q", got)
	}
	wantStatus := statusBefore + "\n M .github/workflows/ci.yml\n D .github/workflows/old.yml\n?? .github/workflows/new.yml"
	if got := g.git(g.work, "status", "--porcelain"); !sameLines(got, wantStatus) {
		t.Errorf("working tree or index disturbed:\n%s\nwant:\n%s", got, wantStatus)
	}
	if got := g.git(g.work, "rev-parse", "HEAD"); got != mainSHA {
		t.Errorf("HEAD moved to %s", got)
	}
	if got := g.git(g.work, "rev-parse", regenBranch); got != second.Commit {
		t.Errorf("local branch at %s, want %s", got, second.Commit)
	}
	if got := g.git(g.work, "for-each-ref", "refs/brickci"); got != "" {
		t.Errorf("temporary refs left behind: %s", got)
	}
}

// sameLines compares two outputs as sets of lines.
func sameLines(a, b string) bool {
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				m[l] = true
			}
		}
		return m
	}
	return cmp.Equal(set(a), set(b))
}

func TestCommitAndPushNoChange(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)

	// Same as the base: nothing to propose, no branch created.
	if got := g.push(".github/workflows/ci.yml"); got != (PushResult{}) {
		t.Errorf("unchanged from base: %+v, want nothing", got)
	}
	if ref := g.remoteRef(regenBranch); ref != "" {
		t.Fatalf("branch created at %s", ref)
	}

	g.write(".github/workflows/ci.yml", "name: ci v1\n")
	first := g.push(".github/workflows/ci.yml")
	// Same content again: the remote branch must not move.
	again := g.push(".github/workflows/ci.yml")
	if diff := cmp.Diff(PushResult{Changed: true, Commit: first.Commit}, again); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
	if ref := g.remoteRef(regenBranch); ref != first.Commit {
		t.Errorf("remote branch moved to %s, want %s", ref, first.Commit)
	}
}

func TestCommitAndPushBadInput(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	tests := []struct {
		name, branch, base, remote string
		files                      []string
		want                       string
	}{
		{"path outside", regenBranch, "main", "origin", []string{"../x"}, `invalid path "../x": give a file path relative to the repository root`},
		{"absolute path", regenBranch, "main", "origin", []string{"/etc/passwd"}, `invalid path "/etc/passwd": give a file path relative to the repository root`},
		{"no files", regenBranch, "main", "origin", nil, "no files to commit: give at least one path"},
		{"missing file", regenBranch, "main", "origin", []string{"nope.yml"}, `file "nope.yml" exists neither in ` + g.work + ` nor at HEAD: give files that were generated or deleted`},
		{"bad branch", "bad..name", "main", "origin", []string{"README.md"}, `invalid branch name "bad..name": use a valid git branch name`},
		{"same branch", "main", "main", "origin", []string{"README.md"}, `the branch and the base are both "main": push to another branch`},
		{"missing base", regenBranch, "develop", "origin", []string{"README.md"}, `the base branch "develop" does not exist on file://` + g.bare + `: give an existing branch`},
		{"unknown remote", regenBranch, "main", "upstream", []string{"README.md"}, `failed to find remote "upstream" in ` + g.work},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Git{Env: g.env}.CommitAndPush(context.Background(), g.work, tt.branch, tt.base, "msg", tt.files, tt.remote, "", Identity{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestCommitAndPushWorkflowScope rejects the push the way GitHub does for a
// token without the workflow scope.
func TestCommitAndPushWorkflowScope(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	hook := filepath.Join(g.bare, "hooks", "pre-receive")
	script := "#!/bin/sh\necho 'refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission' >&2\nexit 1\n"
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	g.write(".github/workflows/ci.yml", "name: ci v1\n")
	_, err := Git{Env: g.env}.CommitAndPush(context.Background(), g.work, regenBranch, "main", "msg", []string{".github/workflows/ci.yml"}, "origin", "", Identity{})
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Permission != "workflow" {
		t.Fatalf("err = %v, want a PermissionError for the workflow scope", err)
	}
	if !strings.Contains(err.Error(), `the token lacks the "workflow" scope`) {
		t.Errorf("message %q does not name the scope", err)
	}
}

// TestCommitAndPushOverHTTP serves the bare repository through
// git http-backend, checks every request carries the token as basic auth in
// a header, and refuses the push as GitHub does without "contents: write".
func TestCommitAndPushOverHTTP(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	execPath := g.git(g.work, "--exec-path")
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Root: "/",
		Env:  append([]string{"GIT_PROJECT_ROOT=" + filepath.Dir(g.bare), "GIT_HTTP_EXPORT_ALL=1"}, g.env...),
	}
	const token = "ghs_pushsecret42"
	wantAuth := "basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Query().Get("service") == "git-receive-pack" || strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("Permission to acme/rag.git denied to github-actions[bot].\n"))
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	// A header persisted by a checkout for the same host must be replaced.
	g.git(g.work, "config", "http."+srv.URL+"/.extraheader", "AUTHORIZATION: basic c3RhbGU=")

	g.write(".github/workflows/ci.yml", "name: ci v1\n")
	_, err := Git{Env: g.env}.CommitAndPush(context.Background(), g.work, regenBranch, "main", "msg",
		[]string{".github/workflows/ci.yml"}, srv.URL+"/remote.git", token, Identity{})
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Permission != "contents: write" {
		t.Fatalf("err = %v, want a PermissionError for contents: write", err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), wantAuth[6:]) {
		t.Errorf("error %q reveals the token", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auths) < 3 { // ls-remote, fetch, push
		t.Fatalf("only %d requests reached the server", len(auths))
	}
	for i, a := range auths {
		if a != wantAuth {
			t.Errorf("request %d Authorization = %q, want the token's basic header", i, a)
		}
	}
}

func TestRemoteErrorClassification(t *testing.T) {
	t.Parallel()
	r := &gitRun{}
	tests := []struct {
		stderr   string
		wantPerm string // "" means not a permission error
		want     string
	}{
		{"remote: Permission to acme/rag.git denied to github-actions[bot].\nfatal: unable to access 'https://github.com/acme/rag.git/': The requested URL returned error: 403", "contents: write", ""},
		{"remote: Write access to repository not granted.", "contents: write", ""},
		{"! [remote rejected] x -> x (refusing to allow an OAuth App to create or update workflow `.github/workflows/a.yml` without `workflow` scope)", "workflow", ""},
		{"remote: Repository not found.\nfatal: repository 'https://github.com/acme/rag.git/' not found", "contents: write", ""},
		{"fatal: could not read Username for 'https://github.com': terminal prompts disabled", "", "authentication failed; check the token"},
		{" ! [rejected]        x -> x (stale info)", "", "the branch changed on the remote while brickci prepared it; re-run the workflow"},
		{"fatal: unable to connect", "", "failed to push branch \"x\" to the remote: git push failed: fatal: unable to connect"},
	}
	for _, tt := range tests {
		err := r.remoteError(&gitError{args: "push", stderr: tt.stderr, err: errors.New("exit status 128")}, `push branch "x" to`, "contents: write", []string{".github/workflows/a.yml"})
		var pe *PermissionError
		gotPerm := ""
		if errors.As(err, &pe) {
			gotPerm = pe.Permission
		}
		if gotPerm != tt.wantPerm {
			t.Errorf("%q: permission %q, want %q (err %v)", tt.stderr, gotPerm, tt.wantPerm, err)
		}
		if tt.want != "" && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %q, want it to contain %q", tt.stderr, err, tt.want)
		}
	}
}

func TestRegenerateBranch(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	tests := map[string]string{
		"rag_chatbot":   "brickci/regenerate-rag_chatbot",
		"My Project!":   "brickci/regenerate-My-Project",
		"a..b/c":        "brickci/regenerate-a--b-c",
		"  ":            "brickci/regenerate-project",
		"naïve-project": "brickci/regenerate-na-ve-project",
	}
	for in, want := range tests {
		if got := RegenerateBranch(in); got != want {
			t.Errorf("RegenerateBranch(%q) = %q, want %q", in, got, want)
		}
		out, err := exec.Command("git", "check-ref-format", "--branch", RegenerateBranch(in)).CombinedOutput()
		if err != nil {
			t.Errorf("%q is not a valid branch: %s", RegenerateBranch(in), out)
		}
	}
}
