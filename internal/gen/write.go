package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/brickci/brickci/internal/diag"
)

// Write loads the spec at specPath (relative to root), generates the
// workflows, lints them, and when all is clean writes them into outDir
// (relative to root), removing generated files the spec no longer yields.
// Files without the generated header are never removed. The result's
// Drifts are empty: what was out of sync is now in Changed and Removed.
// The error is for files that cannot be read or written.
func Write(root, specPath, outDir string) (*Result, error) {
	s, findings, err := load(root, specPath)
	if err != nil {
		return nil, err
	}
	res := &Result{Spec: s, Findings: findings}
	if findings.AtLeast(diag.Error) {
		return res, nil
	}
	files, err := Generate(s, specPath)
	if err != nil {
		return nil, err
	}
	res.Files = files
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
