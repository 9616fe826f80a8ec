package gen

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

// RuleActionlintPrefix prefixes the rule of findings actionlint reports
// about generated workflows ("actionlint-expression", ...).
const RuleActionlintPrefix = "actionlint-"

// Lint runs actionlint over generated files in a staging directory that
// mirrors the repository: the workflows under .github/workflows and, for a
// local action reference ("./dir"), that action's metadata copied from
// root so that its inputs are checked. Findings name the files as
// outDir/<name>. shellcheck and pyflakes are not run.
func Lint(files map[string][]byte, root, action, outDir string) (diag.List, error) {
	stage, err := os.MkdirTemp("", "genworkflows-")
	if err != nil {
		return nil, fmt.Errorf("failed to create staging directory: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := stageFiles(stage, files, root, action); err != nil {
		return nil, err
	}
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{WorkingDir: stage})
	if err != nil {
		return nil, fmt.Errorf("failed to create actionlint linter: %w", err)
	}
	proj, err := actionlint.NewProject(stage)
	if err != nil {
		return nil, fmt.Errorf("failed to open staging project: %w", err)
	}
	var paths []string
	for _, n := range sortedKeys(files) {
		paths = append(paths, filepath.Join(stage, ".github", "workflows", n))
	}
	errs, err := linter.LintFiles(paths, proj)
	if err != nil {
		return nil, fmt.Errorf("failed to lint generated workflows: %w", err)
	}
	var out diag.List
	for _, e := range errs {
		out = append(out, diag.Errorf(RuleActionlintPrefix+e.Kind, filepath.ToSlash(filepath.Join(outDir, filepath.Base(e.Filepath))), e.Line, e.Column, "%s", e.Message))
	}
	out.Sort()
	return out, nil
}

func stageFiles(stage string, files map[string][]byte, root, action string) error {
	wf := filepath.Join(stage, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		return fmt.Errorf("failed to create staging directory: %w", err)
	}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(wf, n), data, 0o644); err != nil {
			return fmt.Errorf("failed to stage %q: %w", n, err)
		}
	}
	if action != "." && !strings.HasPrefix(action, "./") {
		return nil
	}
	dir := filepath.FromSlash(strings.TrimPrefix(action, "./"))
	for _, name := range []string{"action.yml", "action.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, dir, name))
		if err != nil {
			continue
		}
		dst := filepath.Join(stage, dir)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("failed to stage local action: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			return fmt.Errorf("failed to stage local action: %w", err)
		}
		return nil
	}
	return nil
}

// Result is what Write did.
type Result struct {
	// Changed lists the files written because they were new or differed.
	Changed []string
	// Removed lists stale generated files that were deleted.
	Removed []string
	// Findings are spec problems, the generator's advice (warnings) and
	// actionlint findings; when they hold errors nothing was written.
	Findings diag.List
}

// Write loads the spec at specPath (relative to root), generates the
// workflows, lints them, and when all is clean writes them into outDir
// (relative to root), removing generated files the spec no longer yields.
// Files without the generated header are never removed.
func Write(root, specPath, outDir string) (*Result, error) {
	s, findings, err := load(root, specPath)
	if err != nil {
		return nil, err
	}
	res := &Result{Findings: findings}
	if findings.AtLeast(diag.Error) {
		return res, nil
	}
	files, err := Generate(s, specPath)
	if err != nil {
		return nil, err
	}
	res.Findings = append(res.Findings, Advice(s)...)
	lint, err := Lint(files, root, s.Action, outDir)
	if err != nil {
		return nil, err
	}
	res.Findings = append(res.Findings, lint...)
	res.Findings.Sort()
	if lint.AtLeast(diag.Error) {
		return res, nil
	}
	dir := filepath.Join(root, outDir)
	drifts, err := Compare(files, s.SHA256, dir, outDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create %q: %w", outDir, err)
	}
	for _, d := range drifts {
		name := filepath.Base(filepath.FromSlash(d.File))
		if d.Kind == Stale {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("failed to remove stale workflow %q: %w", d.File, err)
			}
			res.Removed = append(res.Removed, d.File)
			continue
		}
		if err := writeAtomic(filepath.Join(dir, name), files[name]); err != nil {
			return nil, err
		}
		res.Changed = append(res.Changed, d.File)
	}
	sort.Strings(res.Changed)
	sort.Strings(res.Removed)
	return res, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".genworkflows-*")
	if err != nil {
		return fmt.Errorf("failed to write %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("failed to write %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("failed to write %q: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("failed to write %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to write %q: %w", path, err)
	}
	return nil
}
