package gitinfo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/ini.v1"
)

// ErrNoCheckout is returned by Read when no directory from dir upwards
// holds a .git entry.
var ErrNoCheckout = errors.New("not inside a git checkout")

// Checkout describes the git working tree a directory belongs to.
type Checkout struct {
	// Root is the absolute path of the working tree's top directory.
	Root string
	// Branch is the checked-out branch, "" when HEAD is detached (as in a
	// pull request's merge commit on GitHub Actions).
	Branch string
	// Commit is the full hash HEAD points at, "" in a repository without
	// commits.
	Commit string
	// OriginURL is the url of the "origin" remote with any user name or
	// password removed, "" when there is no such remote.
	OriginURL string
}

// Read returns the checkout holding dir. It returns ErrNoCheckout when dir
// is not inside one, and an error when the .git directory cannot be read.
func Read(dir string) (Checkout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Checkout{}, fmt.Errorf("failed to resolve %q: %w", dir, err)
	}
	root, gitDir, err := findGitDir(abs)
	if err != nil {
		return Checkout{}, err
	}
	common := commonDir(gitDir)
	c := Checkout{Root: root}
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return Checkout{}, fmt.Errorf("failed to read %q: %w", filepath.Join(gitDir, "HEAD"), err)
	}
	h := strings.TrimSpace(string(head))
	if ref, ok := strings.CutPrefix(h, "ref: "); ok {
		c.Branch = strings.TrimPrefix(ref, "refs/heads/")
		if c.Commit, err = resolveRef(gitDir, common, ref); err != nil {
			return Checkout{}, err
		}
	} else {
		c.Commit = h
	}
	if c.OriginURL, err = originURL(filepath.Join(common, "config")); err != nil {
		return Checkout{}, err
	}
	return c, nil
}

// findGitDir walks up from dir to the first directory holding .git and
// returns that directory and the git directory .git is or points at.
func findGitDir(dir string) (root, gitDir string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		info, err := os.Stat(p)
		switch {
		case err == nil && info.IsDir():
			return d, p, nil
		case err == nil:
			// A linked worktree or submodule: "gitdir: <path>".
			data, err := os.ReadFile(p)
			if err != nil {
				return "", "", fmt.Errorf("failed to read %q: %w", p, err)
			}
			target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir: ")
			if !ok {
				return "", "", fmt.Errorf("failed to read %q: it does not name a git directory", p)
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(d, target)
			}
			return d, filepath.Clean(target), nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", "", fmt.Errorf("failed to read %q: %w", p, err)
		}
		if filepath.Dir(d) == d {
			return "", "", ErrNoCheckout
		}
	}
}

// commonDir returns the directory holding the refs and config shared by all
// worktrees of a repository.
func commonDir(gitDir string) string {
	data, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return gitDir
	}
	c := strings.TrimSpace(string(data))
	if !filepath.IsAbs(c) {
		c = filepath.Join(gitDir, c)
	}
	return filepath.Clean(c)
}

// resolveRef returns the commit a ref names: a loose ref file (in the
// worktree's own git directory, then the common one), else packed-refs.
// A ref that does not exist yet (a new repository) resolves to "".
func resolveRef(gitDir, common, ref string) (string, error) {
	for i := 0; i < 10; i++ {
		var data []byte
		var err error
		for _, d := range []string{gitDir, common} {
			data, err = os.ReadFile(filepath.Join(d, filepath.FromSlash(ref)))
			if err == nil || !errors.Is(err, fs.ErrNotExist) {
				break
			}
		}
		switch {
		case err == nil:
			v := strings.TrimSpace(string(data))
			next, symbolic := strings.CutPrefix(v, "ref: ")
			if !symbolic {
				return v, nil
			}
			ref = next
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("failed to read ref %q: %w", ref, err)
		}
		return packedRef(filepath.Join(common, "packed-refs"), ref)
	}
	return "", fmt.Errorf("failed to read ref %q: too many symbolic refs", ref)
}

// packedRef looks ref up in a packed-refs file.
func packedRef(path, ref string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to read %q: %w", path, err)
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := s.Text()
		if line == "" || line[0] == '#' || line[0] == '^' {
			continue
		}
		if hash, name, ok := strings.Cut(line, " "); ok && name == ref {
			return hash, nil
		}
	}
	return "", nil
}

// originURL reads remote.origin.url from a git config file.
func originURL(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to read %q: %w", path, err)
	}
	cfg, err := ini.LoadSources(ini.LoadOptions{AllowShadows: true, SkipUnrecognizableLines: true}, data)
	if err != nil {
		return "", fmt.Errorf("failed to read %q: %w", path, err)
	}
	sec, err := cfg.GetSection(`remote "origin"`)
	if err != nil {
		return "", nil
	}
	return StripCredentials(sec.Key("url").String()), nil
}

// StripCredentials removes a user name and password from a remote url, so
// a token embedded in it is never recorded or printed. Urls that are not
// URLs (git@host:owner/repo.git) are returned unchanged.
func StripCredentials(remote string) string {
	u, err := url.Parse(remote)
	if err != nil || u.User == nil || u.Host == "" {
		return remote
	}
	u.User = nil
	return u.String()
}
