package gitinfo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/gittest"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const sha1 = "0123456789abcdef0123456789abcdef01234567"
const sha2 = "89abcdef0123456789abcdef0123456789abcdef"

// TestReadHandMadeGitDir reads .git directories written by hand, so it
// needs no git binary: loose and packed refs, a detached HEAD, a linked
// worktree, and a remote url carrying a token.
func TestReadHandMadeGitDir(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string]string
		sub   string // directory to read from, below the root
		want  Checkout
	}{
		{
			name: "loose ref",
			files: map[string]string{
				".git/HEAD":            "ref: refs/heads/main\n",
				".git/refs/heads/main": sha1 + "\n",
				".git/config":          "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/acme/churn.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
			},
			sub:  "bundle/resources",
			want: Checkout{Branch: "main", Commit: sha1, OriginURL: "https://github.com/acme/churn.git"},
		},
		{
			name: "packed ref and token in url",
			files: map[string]string{
				".git/HEAD":        "ref: refs/heads/feature/x\n",
				".git/packed-refs": "# pack-refs with: peeled fully-peeled sorted\n" + sha2 + " refs/heads/feature/x\n^" + sha1 + "\n",
				".git/config":      "[remote \"origin\"]\n\turl = https://x-access-token:ghs_secret@github.com/acme/churn\n",
			},
			want: Checkout{Branch: "feature/x", Commit: sha2, OriginURL: "https://github.com/acme/churn"},
		},
		{
			name: "detached head without remote",
			files: map[string]string{
				".git/HEAD": sha2 + "\n",
			},
			want: Checkout{Commit: sha2},
		},
		{
			name: "new repository",
			files: map[string]string{
				".git/HEAD": "ref: refs/heads/main\n",
			},
			want: Checkout{Branch: "main"},
		},
		{
			name: "linked worktree",
			files: map[string]string{
				"wt/.git":                          "gitdir: ../main/.git/worktrees/wt\n",
				"main/.git/worktrees/wt/HEAD":      "ref: refs/heads/topic\n",
				"main/.git/worktrees/wt/commondir": "../..\n",
				"main/.git/refs/heads/topic":       sha1 + "\n",
				"main/.git/config":                 "[remote \"origin\"]\n\turl = git@github.com:acme/churn.git\n",
			},
			sub:  "wt",
			want: Checkout{Branch: "topic", Commit: sha1, OriginURL: "git@github.com:acme/churn.git"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for p, content := range c.files {
				write(t, filepath.Join(dir, p), content)
			}
			from := filepath.Join(dir, c.sub)
			if err := os.MkdirAll(from, 0o755); err != nil {
				t.Fatal(err)
			}
			got, err := Read(from)
			if err != nil {
				t.Fatal(err)
			}
			c.want.Root = dir
			if strings.HasPrefix(c.sub, "wt") {
				c.want.Root = filepath.Join(dir, "wt")
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadOutsideCheckout(t *testing.T) {
	t.Parallel()
	// The temporary directory is not below a checkout on the machines the
	// tests run on; if it is, the case says nothing.
	dir := t.TempDir()
	if _, _, err := findGitDir(dir); !errors.Is(err, ErrNoCheckout) {
		t.Skipf("%s is inside a checkout", dir)
	}
	if _, err := Read(dir); !errors.Is(err, ErrNoCheckout) {
		t.Errorf("want ErrNoCheckout, got %v", err)
	}
}

// TestReadRealCheckout compares Read with what git itself says about a
// repository it made.
func TestReadRealCheckout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	git := gittest.Runner(t, dir)
	git("init", "-q", "-b", "release")
	git("remote", "add", "origin", "https://github.com/acme/churn.git")
	write(t, filepath.Join(dir, "bundle", "databricks.yml"), "bundle: {name: churn}\n")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	git("pack-refs", "--all")
	want := Checkout{Root: dir, Branch: "release", Commit: git("rev-parse", "HEAD"), OriginURL: "https://github.com/acme/churn.git"}
	got, err := Read(filepath.Join(dir, "bundle"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	git("checkout", "-q", "--detach")
	got, err = Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Branch != "" || got.Commit != want.Commit {
		t.Errorf("detached: got %+v", got)
	}
}
