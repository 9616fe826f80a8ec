package bundle

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the file at path, rewriting it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden file (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestBadBundles loads every bundle under testdata/bad and compares its
// findings with <case>.out. Each case exercises one check.
func TestBadBundles(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range dirs {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			_, l, err := Load(LoadOptions{Dir: dir, Getenv: func(string) string { return "" }})
			if err != nil {
				t.Fatal(err)
			}
			if !l.AtLeast(diag.Warning) {
				t.Errorf("a bad bundle must report at least one warning or error, got %v", l)
			}
			var buf bytes.Buffer
			if err := diag.WriteText(&buf, l); err != nil {
				t.Fatal(err)
			}
			golden(t, dir+".out", []byte(filepath.ToSlash(buf.String())))
		})
	}
	if n < 15 {
		t.Errorf("found %d bad bundles, want one per check", n)
	}
}

// TestGoodBundles loads bundles in the shapes Databricks documents for
// every target: none may report an error, and the resolved configuration
// matches the golden JSON.
func TestGoodBundles(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"mlops":    {"dev", "staging", "prod"},
		"minimal":  {"default"},
		"includes": {"dev", "prod"},
	}
	for name, targets := range cases {
		for _, target := range targets {
			t.Run(name+"/"+target, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join("testdata", "good", name)
				b, l, err := Load(LoadOptions{Dir: dir, Target: target})
				if err != nil {
					t.Fatal(err)
				}
				if l.AtLeast(diag.Warning) {
					t.Errorf("unexpected findings:\n%v", l)
				}
				if b == nil {
					t.Fatal("nil bundle")
				}
				got, err := json.MarshalIndent(b, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "good", name+"."+target+".json"), append(got, '\n'))
			})
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	_, _, err := Load(LoadOptions{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no databricks.yml") {
		t.Errorf("want a missing databricks.yml error, got %v", err)
	}
	dir := t.TempDir()
	for _, f := range []string{"databricks.yml", "databricks.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("bundle: {name: x}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := Load(LoadOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("want an error for two root files, got %v", err)
	}
}
