package gen

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	for _, n := range slices.Sorted(maps.Keys(files)) {
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
