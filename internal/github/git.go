package github

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// RegenerateBranch returns the stable branch the generate mode proposes a
// project's regenerated files on, "brickci/regenerate-<project>", with
// characters git does not allow in branch names replaced by '-'.
func RegenerateBranch(project string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(project) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		name = "project"
	}
	return "brickci/regenerate-" + name
}

// Identity is the author and committer of a commit.
type Identity struct {
	Name  string // for example "github-actions[bot]"
	Email string // for example "41898282+github-actions[bot]@users.noreply.github.com"
}

// DefaultIdentity is the GitHub Actions bot, used when an Identity is empty.
var DefaultIdentity = Identity{Name: "github-actions[bot]", Email: "41898282+github-actions[bot]@users.noreply.github.com"}

// Git runs the git executable for CommitAndPush.
type Git struct {
	// Env is the environment of every git command, typically os.Environ()
	// handed in by cmd/. nil means an empty environment. brickci adds what
	// it needs (no prompts, C locale, the author, the auth header) on top.
	Env []string
	// Binary is the git executable; empty means "git" on the PATH.
	Binary string
}

// PushResult is what CommitAndPush did.
type PushResult struct {
	// Changed is true when the files differ from the remote base branch,
	// that is when a pull request is worth opening.
	Changed bool
	// Pushed is true when the branch was created or moved on the remote.
	Pushed bool
	// Commit is the branch's commit on the remote after the call, or ""
	// when nothing changed and the branch does not exist.
	Commit string
}

// CommitAndPush proposes the given files, as they are in repoDir's working
// tree, on branch (one stable branch per project, for example
// "brickci/regenerate-rag_chatbot"). It commits only those files on top of
// the current HEAD, without touching the working tree, the index or the
// checked-out branch, and pushes the commit to branch on remote (a remote
// name or URL), replacing what the branch held.
//
// It pushes nothing when the files are the same as on the remote base
// branch (Changed is false) or as on the remote branch already (Changed is
// true, Pushed false), so re-running never creates empty commits.
//
// The push is forced, because the branch is regenerated from scratch each
// time rather than built upon, but with --force-with-lease set to the
// commit fetched moments before: a run that raced another run, or a person
// who pushed a fix to the branch in between, makes it fail with a clear
// error instead of being silently overwritten.
//
// token, when set, authenticates https remotes through an http.extraheader
// passed in git's environment (GIT_CONFIG_COUNT), never in a URL or on the
// command line, and is removed from any error text. A refused push yields a
// *PermissionError naming "contents: write", or the "workflow" scope when
// the files include workflow files.
func (g Git) CommitAndPush(ctx context.Context, repoDir, branch, base, message string, files []string, remote, token string, author Identity) (PushResult, error) {
	if strings.TrimSpace(message) == "" {
		return PushResult{}, errors.New("the commit message is empty: give one")
	}
	if len(files) == 0 {
		return PushResult{}, errors.New("no files to commit: give at least one path")
	}
	if branch == base {
		return PushResult{}, fmt.Errorf("the branch and the base are both %q: push to another branch", branch)
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		p := filepath.ToSlash(filepath.Clean(f))
		if f == "" || !filepath.IsLocal(f) || p == "." {
			return PushResult{}, fmt.Errorf("invalid path %q: give a file path relative to the repository root", f)
		}
		paths = append(paths, p)
	}
	if author.Name == "" || author.Email == "" {
		author = DefaultIdentity
	}
	r := &gitRun{bin: g.Binary, dir: repoDir, env: append([]string(nil), g.Env...), token: token}
	if r.bin == "" {
		r.bin = "git"
	}
	for _, b := range []string{branch, base} {
		if _, err := r.run(ctx, nil, "", "check-ref-format", "--branch", b); err != nil {
			return PushResult{}, fmt.Errorf("invalid branch name %q: use a valid git branch name", b)
		}
	}

	remoteURL, err := r.remoteURL(ctx, remote)
	if err != nil {
		return PushResult{}, err
	}
	r.setAuth(remoteURL)

	// What the remote has now.
	refs, err := r.lsRemote(ctx, remoteURL, "refs/heads/"+base, "refs/heads/"+branch)
	if err != nil {
		return PushResult{}, err
	}
	if refs["refs/heads/"+base] == "" {
		return PushResult{}, fmt.Errorf("the base branch %q does not exist on %s: give an existing branch", base, redactURL(remoteURL))
	}
	nonce, err := randomHex()
	if err != nil {
		return PushResult{}, err
	}
	baseRef, headRef := "refs/brickci/"+nonce+"/base", "refs/brickci/"+nonce+"/head"
	specs := []string{"+refs/heads/" + base + ":" + baseRef}
	if refs["refs/heads/"+branch] != "" {
		specs = append(specs, "+refs/heads/"+branch+":"+headRef)
	}
	defer func() {
		// Best effort: the temporary refs only cost a few bytes if left.
		_, _ = r.run(context.WithoutCancel(ctx), nil, "", "update-ref", "-d", baseRef)
		_, _ = r.run(context.WithoutCancel(ctx), nil, "", "update-ref", "-d", headRef)
	}()
	fetch := []string{"fetch", "--no-tags", "--quiet"}
	if shallow, _ := r.run(ctx, nil, "", "rev-parse", "--is-shallow-repository"); shallow == "true" {
		// Deepening a shallow checkout would download history it does not need.
		fetch = append(fetch, "--depth=1")
	}
	if _, err := r.run(ctx, nil, "", append(append(fetch, remoteURL), specs...)...); err != nil {
		return PushResult{}, r.remoteError(err, "fetch", "contents: read", paths)
	}
	baseCommit, err := r.run(ctx, nil, "", "rev-parse", "--verify", baseRef+"^{commit}")
	if err != nil {
		return PushResult{}, err
	}
	headCommit := ""
	if len(specs) > 1 {
		if headCommit, err = r.run(ctx, nil, "", "rev-parse", "--verify", headRef+"^{commit}"); err != nil {
			return PushResult{}, err
		}
	}

	tree, err := r.treeWithFiles(ctx, paths)
	if err != nil {
		return PushResult{}, err
	}
	if same, err := r.sameFiles(ctx, baseCommit, tree, paths); err != nil || same {
		return PushResult{Commit: headCommit}, err
	}
	if headCommit != "" {
		if same, err := r.sameFiles(ctx, headCommit, tree, paths); err != nil || same {
			return PushResult{Changed: true, Commit: headCommit}, err
		}
	}

	commitEnv := []string{
		"GIT_AUTHOR_NAME=" + author.Name, "GIT_AUTHOR_EMAIL=" + author.Email,
		"GIT_COMMITTER_NAME=" + author.Name, "GIT_COMMITTER_EMAIL=" + author.Email,
	}
	commit, err := r.run(ctx, commitEnv, message, "commit-tree", tree, "-p", "HEAD", "-F", "-")
	if err != nil {
		return PushResult{}, err
	}
	lease := "--force-with-lease=refs/heads/" + branch + ":" + headCommit
	if _, err := r.run(ctx, nil, "", "push", "--quiet", "--no-verify", lease, remoteURL, commit+":refs/heads/"+branch); err != nil {
		return PushResult{}, r.remoteError(err, "push branch "+strconv.Quote(branch)+" to", "contents: write", paths)
	}
	r.updateLocalBranch(ctx, branch, commit)
	return PushResult{Changed: true, Pushed: true, Commit: commit}, nil
}

// gitRun runs git in one repository with one environment.
type gitRun struct {
	bin, dir string
	env      []string
	token    string
	header   string // the base64 credentials, redacted like the token
}

// gitError is a failed git command with its (redacted) stderr.
type gitError struct {
	args   string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s failed: %s", e.args, msg)
}

func (e *gitError) Unwrap() error { return e.err }

// run runs git with args (plus extra environment and stdin) and returns
// its trimmed stdout.
func (r *gitRun) run(ctx context.Context, extraEnv []string, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Dir = r.dir
	cmd.Env = append(append(append([]string{}, r.env...),
		"GIT_TERMINAL_PROMPT=0", "GIT_LITERAL_PATHSPECS=1", "LC_ALL=C", "LANGUAGE=C"), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", &gitError{args: args[0], stderr: r.redact(errb.String()), err: err}
	}
	return strings.TrimSpace(out.String()), nil
}

func (r *gitRun) redact(s string) string {
	for _, secret := range []string{r.token, r.header} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// remoteURL resolves a remote name to its URL; URLs and paths pass through.
func (r *gitRun) remoteURL(ctx context.Context, remote string) (string, error) {
	switch {
	case remote == "":
		return "", errors.New("no remote: give a remote name such as \"origin\" or a URL")
	case strings.Contains(remote, "://") || strings.HasPrefix(remote, "/") || strings.HasPrefix(remote, "."):
		return remote, nil
	}
	u, err := r.run(ctx, nil, "", "remote", "get-url", "--push", remote)
	if err != nil {
		return "", fmt.Errorf("failed to find remote %q in %s: %w", remote, r.dir, err)
	}
	return u, nil
}

// setAuth makes git send the token to an http(s) remote as an extra header.
// The entries go through GIT_CONFIG_COUNT so the token appears on no command
// line. They are keyed to the remote's scheme and host: the empty first
// value clears a header actions/checkout may have persisted for the same
// host (two Authorization headers make GitHub refuse the request), and a
// host-specific key is not ignored in favour of that more specific one, as
// a plain http.extraheader would be.
func (r *gitRun) setAuth(remote string) {
	u, err := url.Parse(remote)
	if r.token == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return
	}
	r.header = base64.StdEncoding.EncodeToString([]byte("x-access-token:" + r.token))
	key := "http." + u.Scheme + "://" + u.Host + "/.extraheader"
	n := 0
	env := r.env[:0:0]
	for _, kv := range r.env {
		if v, ok := strings.CutPrefix(kv, "GIT_CONFIG_COUNT="); ok {
			n, _ = strconv.Atoi(v)
			continue
		}
		env = append(env, kv)
	}
	r.env = append(env,
		fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", n, key), fmt.Sprintf("GIT_CONFIG_VALUE_%d=", n),
		fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", n+1, key), fmt.Sprintf("GIT_CONFIG_VALUE_%d=AUTHORIZATION: basic %s", n+1, r.header),
		fmt.Sprintf("GIT_CONFIG_COUNT=%d", n+2))
}

// lsRemote returns the commits of the given refs that exist on the remote.
func (r *gitRun) lsRemote(ctx context.Context, remote string, refs ...string) (map[string]string, error) {
	out, err := r.run(ctx, nil, "", append([]string{"ls-remote", remote}, refs...)...)
	if err != nil {
		return nil, r.remoteError(err, "read the branches of", "contents: read", nil)
	}
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if sha, ref, ok := strings.Cut(line, "\t"); ok {
			got[ref] = sha
		}
	}
	return got, nil
}

// treeWithFiles writes the tree of HEAD with the files replaced by their
// working-tree content (or removed when deleted), using a temporary index
// so the caller's index is untouched.
func (r *gitRun) treeWithFiles(ctx context.Context, paths []string) (string, error) {
	gitDir, err := r.run(ctx, nil, "", "rev-parse", "--absolute-git-dir")
	if err != nil {
		return "", fmt.Errorf("failed to find the git repository in %s: %w", r.dir, err)
	}
	nonce, err := randomHex()
	if err != nil {
		return "", err
	}
	index := filepath.Join(gitDir, "brickci-index-"+nonce)
	defer os.Remove(index)
	env := []string{"GIT_INDEX_FILE=" + index}
	if _, err := r.run(ctx, env, "", "read-tree", "HEAD"); err != nil {
		return "", fmt.Errorf("failed to read HEAD in %s: %w", r.dir, err)
	}
	for _, p := range paths {
		if _, err := os.Lstat(filepath.Join(r.dir, filepath.FromSlash(p))); errors.Is(err, fs.ErrNotExist) {
			if _, err := r.run(ctx, env, "", "ls-files", "--error-unmatch", "--", p); err != nil {
				return "", fmt.Errorf("file %q exists neither in %s nor at HEAD: give files that were generated or deleted", p, r.dir)
			}
		}
	}
	if _, err := r.run(ctx, env, "", append([]string{"update-index", "--add", "--remove", "--"}, paths...)...); err != nil {
		return "", fmt.Errorf("failed to stage the files: %w", err)
	}
	return r.run(ctx, env, "", "write-tree")
}

// sameFiles reports whether the paths are identical in two tree-ishes.
func (r *gitRun) sameFiles(ctx context.Context, a, b string, paths []string) (bool, error) {
	_, err := r.run(ctx, nil, "", append([]string{"diff-tree", "--quiet", "-r", a, b, "--"}, paths...)...)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	default:
		return false, fmt.Errorf("failed to compare the files: %w", err)
	}
}

// updateLocalBranch points the local branch at the pushed commit, so the
// result can be inspected locally, unless that branch is checked out
// (moving it would make the working tree look modified).
func (r *gitRun) updateLocalBranch(ctx context.Context, branch, commit string) {
	if cur, _ := r.run(ctx, nil, "", "symbolic-ref", "-q", "HEAD"); cur == "refs/heads/"+branch {
		return
	}
	_, _ = r.run(ctx, nil, "", "update-ref", "refs/heads/"+branch, commit)
}

// remoteError classifies a failed fetch, ls-remote or push.
func (r *gitRun) remoteError(err error, op, perm string, paths []string) error {
	var ge *gitError
	if !errors.As(err, &ge) {
		return err
	}
	s := strings.ToLower(ge.stderr)
	workflowFiles := false
	for _, p := range paths {
		workflowFiles = workflowFiles || strings.HasPrefix(p, ".github/workflows/")
	}
	switch {
	case strings.Contains(s, "refusing to allow") && strings.Contains(s, "workflow"),
		workflowFiles && strings.Contains(s, "workflow") && strings.Contains(s, "scope"):
		return fmt.Errorf("failed to %s the remote: %w", op, &PermissionError{Permission: "workflow"})
	case strings.Contains(s, "error: 403"), strings.Contains(s, "permission to") && strings.Contains(s, "denied"),
		strings.Contains(s, "write access to repository not granted"):
		return fmt.Errorf("failed to %s the remote: %w", op, &PermissionError{Permission: perm})
	case strings.Contains(s, "error: 404"), strings.Contains(s, "repository not found"):
		return fmt.Errorf("failed to %s the remote: %w", op, &PermissionError{Permission: perm, NotFound: true})
	case strings.Contains(s, "error: 401"), strings.Contains(s, "authentication failed"), strings.Contains(s, "could not read username"):
		return fmt.Errorf("failed to %s the remote: authentication failed; check the token: %w", op, err)
	case strings.Contains(s, "stale info"), strings.Contains(s, "[rejected]"), strings.Contains(s, "fetch first"):
		return fmt.Errorf("failed to %s the remote: the branch changed on the remote while brickci prepared it; re-run the workflow: %w", op, err)
	}
	return fmt.Errorf("failed to %s the remote: %w", op, err)
}

// redactURL drops user information from a URL before it is shown.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

func randomHex() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to make a temporary name: %w", err)
	}
	return hex.EncodeToString(b), nil
}
