package spec

import (
	"os"
	"path/filepath"

	"github.com/brickci/brickci/internal/diag"
)

// Check runs the checks that need the repository: the bundle directory,
// relative to root, must hold databricks.yml or databricks.yaml.
func (s *Spec) Check(root string) diag.List {
	dir := filepath.Join(root, filepath.FromSlash(s.Bundle))
	for _, name := range []string{"databricks.yml", "databricks.yaml"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			return nil
		}
	}
	return diag.List{diag.Errorf(RuleBundle, s.File, s.BundleLine, s.BundleColumn,
		"bundle directory %q has no databricks.yml; set bundle: to the directory that holds it", s.Bundle)}
}
