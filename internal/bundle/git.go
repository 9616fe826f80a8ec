package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/gitinfo"
)

// gitFields are the keys of bundle.git that ${bundle.git.*} may name.
var gitFields = []string{"origin_url", "branch", "actual_branch", "commit", "bundle_root_path", "inferred"}

// resolveGit works out bundle.git the way the Databricks CLI does
// (bundle/config/mutator/load_git_details.go), with the GitHub Actions
// context in front of the checkout where the checkout does not say the
// truth (a pull request checks out a detached merge commit):
//
//   - branch: bundle.git.branch from the configuration, else the actual
//     branch; inferred is true when it was not configured;
//   - actual_branch: GITHUB_HEAD_REF in a pull_request event, else
//     GITHUB_REF_NAME when GITHUB_REF is a branch, else the checkout's;
//   - commit: GITHUB_SHA, else the checkout's HEAD (the CLI does not let
//     the configuration set it);
//   - origin_url: bundle.git.origin_url, else the checkout's origin
//     remote, else GITHUB_SERVER_URL/GITHUB_REPOSITORY;
//   - bundle_root_path: the bundle directory relative to the checkout's
//     root (or GITHUB_WORKSPACE when there is no checkout).
//
// It returns the values and, for each field it could not find, why.
func (l *loader) resolveGit(bundleNode *yaml.Node) (Git, map[string]string) {
	getenv := l.opts.Getenv
	cfg := get(bundleNode, "git")
	g := Git{OriginURL: str(get(cfg, "origin_url")), Branch: str(get(cfg, "branch"))}
	var co gitinfo.Checkout
	why := "no git checkout was read and the GitHub Actions context does not say"
	if l.opts.Checkout != nil {
		why = "the bundle is not in a git checkout and the GitHub Actions context does not say"
		c, err := l.opts.Checkout(l.opts.Dir)
		switch {
		case err == nil:
			co = c
			why = "the git checkout and the GitHub Actions context do not say"
		case !errors.Is(err, gitinfo.ErrNoCheckout):
			l.add(l.t.warnAt("git", bundleNode, "failed to read the git checkout: %v; ${bundle.git.*} use the GitHub Actions context only", err))
		}
	}
	event := getenv("GITHUB_EVENT_NAME")
	switch {
	case (event == "pull_request" || event == "pull_request_target") && getenv("GITHUB_HEAD_REF") != "":
		g.ActualBranch = getenv("GITHUB_HEAD_REF")
	case strings.HasPrefix(getenv("GITHUB_REF"), "refs/heads/") && getenv("GITHUB_REF_NAME") != "":
		g.ActualBranch = getenv("GITHUB_REF_NAME")
	default:
		g.ActualBranch = co.Branch
	}
	if g.Branch == "" && g.ActualBranch != "" {
		g.Branch, g.Inferred = g.ActualBranch, true
	}
	g.Commit = getenv("GITHUB_SHA")
	if g.Commit == "" {
		g.Commit = co.Commit
	}
	if g.OriginURL == "" {
		g.OriginURL = co.OriginURL
	}
	if g.OriginURL == "" && getenv("GITHUB_REPOSITORY") != "" {
		server := getenv("GITHUB_SERVER_URL")
		if server == "" {
			server = "https://github.com"
		}
		g.OriginURL = strings.TrimRight(server, "/") + "/" + getenv("GITHUB_REPOSITORY")
	}
	g.OriginURL = gitinfo.StripCredentials(g.OriginURL)
	root := co.Root
	if root == "" {
		root = getenv("GITHUB_WORKSPACE")
	}
	if root != "" {
		g.BundleRootPath = relativeTo(root, l.opts.Dir)
	}
	missing := map[string]string{}
	for f, v := range map[string]string{"origin_url": g.OriginURL, "branch": g.Branch, "actual_branch": g.ActualBranch, "commit": g.Commit, "bundle_root_path": g.BundleRootPath} {
		if v == "" {
			missing[f] = why
		}
	}
	if _, ok := missing["branch"]; ok && co.Commit != "" && co.Branch == "" {
		missing["branch"] = "the git checkout is on a detached HEAD and the GitHub Actions context does not say"
		missing["actual_branch"] = missing["branch"]
	}
	return g, missing
}

// setGit writes the resolved values into bundle.git so that references to
// them resolve like any other setting.
func (l *loader) setGit(bundleNode *yaml.Node, g Git) {
	pos := bundleNode
	if k, _ := getKV(bundleNode, "git"); k != nil {
		pos = k
	}
	n := l.t.mapping(pos)
	for _, kv := range [][2]string{
		{"origin_url", g.OriginURL}, {"branch", g.Branch}, {"actual_branch", g.ActualBranch},
		{"commit", g.Commit}, {"bundle_root_path", g.BundleRootPath},
	} {
		l.t.set(n, kv[0], l.t.scalar(kv[1], pos))
	}
	inferred := l.t.scalar("false", pos)
	if g.Inferred {
		inferred.Value = "true"
	}
	inferred.Tag = "!!bool"
	l.t.set(n, "inferred", inferred)
	l.t.set(bundleNode, "git", n)
}

// readGit reads back bundle.git after references in it were resolved.
func readGit(bundleNode *yaml.Node) Git {
	n := get(bundleNode, "git")
	inferred, _ := boolOf(orNull(get(n, "inferred")))
	return Git{
		OriginURL:      str(get(n, "origin_url")),
		Branch:         str(get(n, "branch")),
		ActualBranch:   str(get(n, "actual_branch")),
		Commit:         str(get(n, "commit")),
		BundleRootPath: str(get(n, "bundle_root_path")),
		Inferred:       inferred,
	}
}

// relativeTo returns dir relative to root as a slash path, or "" when dir
// is not below root.
func relativeTo(root, dir string) string {
	absRoot, err1 := filepath.Abs(root)
	absDir, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(absRoot); err == nil {
		absRoot = r
	}
	if d, err := filepath.EvalSymlinks(absDir); err == nil {
		absDir = d
	}
	rel, err := filepath.Rel(absRoot, absDir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(os.PathSeparator)) {
		return ""
	}
	return filepath.ToSlash(rel)
}
