package spec

import (
	"os"
	"path/filepath"

	"github.com/brickci/brickci/internal/diag"
)

// Check runs the checks that need the repository, relative to root: each
// project's bundle directory must hold databricks.yml or databricks.yaml,
// and the directories it depends on must exist.
func (s *Spec) Check(root string) diag.List {
	var out diag.List
	for i := range s.Projects {
		pr := &s.Projects[i]
		if !hasBundleFile(filepath.Join(root, filepath.FromSlash(pr.Bundle))) {
			line, col := pr.BundleLine, pr.BundleColumn
			if line == 0 && s.MultiProject {
				line, col = pr.Line, pr.Column
			}
			out = append(out, diag.Errorf(RuleBundle, s.File, line, col,
				"bundle directory %q has no databricks.yml; set bundle: to the directory that holds it", pr.Bundle))
		}
		for _, d := range pr.DependsOn {
			if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(d.Name))); err != nil || !st.IsDir() {
				out = append(out, diag.Errorf(RuleDependsOn, s.File, d.Line, d.Column,
					"depends-on directory %q does not exist in the repository; name a directory relative to the repository root", d.Name))
			}
		}
	}
	out.Sort()
	return out
}

func hasBundleFile(dir string) bool {
	for _, name := range []string{"databricks.yml", "databricks.yaml"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}
