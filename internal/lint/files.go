package lint

import (
	"fmt"
	"path/filepath"
)

// Files returns the absolute paths of the files Run would lint for root
// and paths (DefaultPaths(root) when paths is empty), sorted. Callers use
// it to say how many files were checked, or that there is nothing to lint.
func Files(root string, paths []string) ([]string, error) {
	if root == "" {
		root = "."
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve root %q: %w", root, err)
	}
	if len(paths) == 0 {
		if paths, err = DefaultPaths(absRoot); err != nil {
			return nil, err
		}
	}
	return collect(absRoot, paths)
}
