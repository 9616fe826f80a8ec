package lint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamllimit"
)

// Options configures one lint run.
type Options struct {
	// Root is the repository root. Paths are resolved against it and
	// findings name files relative to it. Empty means ".".
	Root string
	// Paths are the files and directories to lint, relative to Root or
	// absolute. A directory contributes every *.yml and *.yaml file below it.
	// Empty means DefaultPaths(Root).
	Paths []string
	// AllowTags lets unpinned-action accept `uses:` pinned by a version tag
	// (v4, v4.2.1); branches are still reported. By default only a full
	// commit sha is accepted.
	AllowTags bool
	// LookPath finds external tools (shellcheck, pyflakes). Nil means none
	// are available. Callers pass exec.LookPath.
	LookPath func(file string) (string, error)
}

// ErrNoFiles is returned when the paths hold no workflow or action file.
var ErrNoFiles = errors.New("no workflow or action files found")

// Run lints the files Options names and returns every finding, sorted. An
// error means the input could not be read at all (a missing path, an
// unreadable file, no files to lint); problems inside files are findings.
func Run(ctx context.Context, opts Options) (diag.List, error) {
	root := opts.Root
	if root == "" {
		root = "."
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve root %q: %w", root, err)
	}
	paths := opts.Paths
	if len(paths) == 0 {
		paths, err = DefaultPaths(absRoot)
		if err != nil {
			return nil, err
		}
	}
	files, err := collect(absRoot, paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w under %q: pass workflow files or directories, or run in a repository with .github/workflows", ErrNoFiles, root)
	}
	proj, err := actionlint.NewProject(absRoot)
	if err != nil {
		return nil, fmt.Errorf("failed to read actionlint configuration under %q: %w", root, err)
	}

	var shellcheck, pyflakes string
	var missing []string
	// Debian and Ubuntu install pyflakes for Python 3 as pyflakes3.
	for _, tool := range []struct {
		name  string
		names []string
		dst   *string
	}{{"shellcheck", []string{"shellcheck"}, &shellcheck}, {"pyflakes", []string{"pyflakes", "pyflakes3"}, &pyflakes}} {
		for _, n := range tool.names {
			if opts.LookPath == nil || *tool.dst != "" {
				break
			}
			if p, err := opts.LookPath(n); err == nil {
				*tool.dst = p
			}
		}
		if *tool.dst == "" {
			missing = append(missing, tool.name)
		}
	}

	ctxs := make([]*fileCtx, len(files))
	errs := make([]error, len(files))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("failed to lint workflows: %w", err)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fc, err := lintFile(f, proj, absRoot, &opts, shellcheck, pyflakes)
			ctxs[i], errs[i] = fc, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var out diag.List
	for _, fc := range ctxs {
		out = append(out, fc.findings...)
	}
	out = append(out, checkConcurrencyCollisions(ctxs)...)
	out = applySuppressions(ctxs, out)
	if len(missing) > 0 {
		out = append(out, diag.Infof("external-tools", "", 0, 0,
			"%s not found on PATH, so scripts in run: were not checked by them; install %s to enable these checks",
			strings.Join(missing, " and "), strings.Join(missing, " and ")))
	}
	out.Sort()
	return out, nil
}

// DefaultPaths returns what Run lints when no paths are given: the
// .github/workflows directory (when it exists) and every action.yml or
// action.yaml under root, skipping hidden directories, testdata, vendor
// and node_modules. Paths are relative to root.
func DefaultPaths(root string) ([]string, error) {
	var out []string
	if st, err := os.Stat(filepath.Join(root, ".github", "workflows")); err == nil && st.IsDir() {
		out = append(out, filepath.Join(".github", "workflows"))
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if isActionFile(p) {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to list files under %q: %w", root, err)
	}
	return out, nil
}

func isActionFile(p string) bool {
	b := filepath.Base(p)
	return b == "action.yml" || b == "action.yaml"
}

func isYAML(p string) bool {
	return strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")
}

// collect expands paths into a sorted, de-duplicated list of absolute files.
func collect(root string, paths []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	var errs []error
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(root, p)
		}
		st, err := os.Stat(abs)
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to read path %q: %w", p, err))
			continue
		}
		if !st.IsDir() {
			if !seen[abs] {
				seen[abs] = true
				files = append(files, abs)
			}
			continue
		}
		err = filepath.WalkDir(abs, func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && isYAML(f) && !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to list files in %q: %w", p, err))
		}
	}
	sort.Strings(files)
	return files, errors.Join(errs...)
}

// lintFile runs actionlint with brickci's rules over one workflow file, or
// brickci's step checks over one action metadata file.
func lintFile(abs string, proj *actionlint.Project, root string, opts *Options, shellcheck, pyflakes string) (*fileCtx, error) {
	src, err := yamllimit.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("failed to read %q: %w", abs, err)
	}
	if _, err := yamllimit.Parse(src); errors.Is(err, yamllimit.ErrLimit) {
		return nil, fmt.Errorf("failed to read %q: %w", abs, err)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = abs
	}
	fc := newFileCtx(filepath.ToSlash(rel), src, opts)
	if isActionFile(abs) {
		fc.lintActionMetadata()
		return fc, nil
	}
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
		WorkingDir: root,
		Shellcheck: shellcheck,
		Pyflakes:   pyflakes,
		OnRulesCreated: func(rules []actionlint.Rule) []actionlint.Rule {
			return append(rules, fc.rules()...)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to set up actionlint: %w", err)
	}
	alErrs, err := linter.Lint(fc.path, src, proj)
	if err != nil {
		return nil, fmt.Errorf("failed to lint %q: %w", fc.path, err)
	}
	for _, e := range alErrs {
		fc.actionlintFinding(e)
	}
	fc.dedupeInjection()
	return fc, nil
}
