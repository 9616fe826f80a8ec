package bundle

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	ignore "github.com/sabhiram/go-gitignore"
)

// File is one file a deploy uploads.
type File struct {
	// Rel is the slash path relative to the bundle root.
	Rel string
	// Abs is the path on disk.
	Abs string
	// Notebook is true for a notebook (a source file with the notebook
	// header, or .ipynb); it is stored in the workspace without extension.
	Notebook bool
}

// RemotePath returns the file's workspace path under filePath (the bundle's
// workspace.file_path).
func (f File) RemotePath(filePath string) string {
	rel := f.Rel
	if f.Notebook {
		rel = trimNotebookExt(rel)
	}
	return strings.TrimRight(filePath, "/") + "/" + rel
}

// Files returns the files a deploy of b uploads, sorted by Rel: everything
// under the sync paths (by default the bundle directory) except .git and
// .databricks, what .gitignore files ignore and what sync.exclude names,
// plus what sync.include re-includes. Patterns use gitignore syntax, as
// Databricks bundles do. Rel is relative to the sync root, which is the
// bundle directory unless sync.paths reaches outside it. A symbolic link to
// a regular file inside the sync root is uploaded as that file; other links
// (to directories, outside the root, dangling) are not followed.
func Files(b *Bundle) ([]File, error) {
	root, paths := b.Sync.Root, b.Sync.Paths
	if root == "" {
		root = b.Dir
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	exclude := ignore.CompileIgnoreLines(b.Sync.Exclude...)
	include := ignore.CompileIgnoreLines(b.Sync.Include...)
	ignores := map[string]*ignore.GitIgnore{} // dir rel path -> its .gitignore
	var out []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("failed to list %q: %w", p, err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("failed to list %q: %w", p, err)
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (d.Name() == ".git" || d.Name() == ".databricks") {
				return filepath.SkipDir
			}
			if !onSyncPath(paths, rel, true) {
				return filepath.SkipDir
			}
			if rel != "." && len(b.Sync.Include) == 0 && ignored(ignores, rel+"/") {
				return filepath.SkipDir
			}
			gi := filepath.Join(p, ".gitignore")
			if _, err := os.Stat(gi); err == nil {
				g, err := ignore.CompileIgnoreFile(gi)
				if err != nil {
					return fmt.Errorf("failed to read %q: %w", gi, err)
				}
				ignores[rel] = g
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && !linkedFileInside(root, p) {
			return nil // validate reports a referenced one (path-symlink)
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 || !onSyncPath(paths, rel, false) {
			return nil
		}
		skip := ignored(ignores, rel) || matchesAny(exclude, rel)
		if skip && !matchesAny(include, rel) {
			return nil
		}
		nb, err := IsNotebook(p)
		if err != nil {
			return fmt.Errorf("failed to read %q: %w", p, err)
		}
		out = append(out, File{Rel: rel, Abs: p, Notebook: nb})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, nil
}

// linkedFileInside reports whether the symbolic link at p resolves to a
// regular file inside root; such a link is uploaded as that file.
func linkedFileInside(root, p string) bool {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil || !within(realRoot, real) {
		return false
	}
	st, err := os.Stat(real)
	return err == nil && st.Mode().IsRegular()
}

// onSyncPath reports whether rel is below one of the sync paths or, for a
// directory, on the way to one.
func onSyncPath(paths []string, rel string, dir bool) bool {
	for _, p := range paths {
		switch {
		case p == "." || rel == p || strings.HasPrefix(rel, p+"/"):
			return true
		case dir && (rel == "." || strings.HasPrefix(p, rel+"/")):
			return true
		}
	}
	return false
}

// ignored applies the .gitignore of every ancestor directory of rel, the
// deepest last so that it decides, as git does. A path inside an ignored
// directory is ignored.
func ignored(ignores map[string]*ignore.GitIgnore, rel string) bool {
	clean := strings.TrimSuffix(rel, "/")
	parts := strings.Split(clean, "/")
	// Any ignored ancestor directory ignores everything below it.
	for i := 1; i < len(parts); i++ {
		if ignoredBy(ignores, strings.Join(parts[:i], "/")+"/") {
			return true
		}
	}
	return ignoredBy(ignores, rel)
}

func ignoredBy(ignores map[string]*ignore.GitIgnore, rel string) bool {
	dirs := []string{"."}
	parts := strings.Split(strings.TrimSuffix(rel, "/"), "/")
	for i := 1; i < len(parts); i++ {
		dirs = append(dirs, strings.Join(parts[:i], "/"))
	}
	result := false
	for _, dir := range dirs {
		g := ignores[dir]
		if g == nil {
			continue
		}
		sub := rel
		if dir != "." {
			sub = strings.TrimPrefix(rel, dir+"/")
		}
		if m, how := g.MatchesPathHow(sub); how != nil {
			result = m
		}
	}
	return result
}

// matchesAny reports whether rel or one of its parent directories matches.
func matchesAny(g *ignore.GitIgnore, rel string) bool {
	if g.MatchesPath(rel) {
		return true
	}
	for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
		if g.MatchesPath(d + "/") {
			return true
		}
	}
	return false
}

// NewUser describes the identity userName: its short name (the part before
// @ with every character other than a letter, digit or _ replaced by _) and
// whether it is a service principal (an application id, which is a UUID).
func NewUser(userName string) User {
	short := userName
	if i := strings.IndexByte(short, '@'); i >= 0 {
		short = short[:i]
	}
	return User{UserName: userName, ShortName: notIdentifier.ReplaceAllString(short, "_"), IsServicePrincipal: uuidPattern.MatchString(userName)}
}
