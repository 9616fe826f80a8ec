package bundle

import (
	"os"
	"path/filepath"
	"testing"
)

// seeds adds every databricks.yml under testdata to a fuzz corpus.
func seeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*/databricks.yml")
	more, _ := filepath.Glob("testdata/*/*/resources/*.yml")
	for _, p := range append(files, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

// FuzzLoad loads arbitrary bytes as databricks.yml: it must never panic,
// and must return either a bundle or findings explaining why not.
func FuzzLoad(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "databricks.yml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		b, l, err := Load(LoadOptions{Dir: dir})
		if err != nil {
			t.Fatalf("only unreadable input is an error: %v", err)
		}
		if b == nil && len(l) == 0 {
			t.Fatal("no bundle and no finding saying why")
		}
		if b != nil {
			if _, err := Files(b); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzInterpolate resolves references in arbitrary documents, including
// self-referencing ones: no panics and no hangs.
func FuzzInterpolate(f *testing.F) {
	seeds(f)
	f.Add([]byte("variables:\n  a: {default: '${var.b}'}\n  b: {default: '${var.a}${var.a}'}\nx: ${var.a}\n"))
	f.Add([]byte("bundle: {name: '${bundle.name}', target: '${workspace.root_path}'}\nworkspace: {root_path: '${bundle.target}'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		interpolate(data)
	})
}
