package demo

// This file prepares what the demo plays on: a copy of the repository's
// pipeline (its spec, workflows, action, the example bundle it plays and the
// other directories the spec names) in a directory
// of its own, as a runner's checkout, so that a demo never builds into the
// repository. Without Python's wheel build it packs the example's wheel
// itself, so that every stage still runs.

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/brickci/brickci/internal/emulator"
	"github.com/brickci/brickci/internal/spec"
)

// ExampleSeed is what a workspace admin makes before the example's first
// deploy, and the demo and the tests seed the emulator with: each target's
// catalog and its rag schema, which the bundle uses but does not own.
var ExampleSeed = emulator.Seed{
	Catalogs: []string{"dev", "test", "staging", "prod"},
	Schemas:  []string{"dev.rag", "test.rag", "staging.rag", "prod.rag"},
}

// ExampleWheel is the file name of the example's wheel.
const ExampleWheel = "rag_chatbot-0.1.0-py3-none-any.whl"

// exampleBuild is the example's artifact build line that PrebuiltExample
// replaces.
const exampleBuild = "    build: python3 -m build --wheel --no-isolation\n"

// WheelBuildPath returns a PATH on which python3 can build the example's
// wheel (it imports the build, setuptools and wheel modules): path itself,
// else path with /usr/bin first, since a pyenv or virtualenv python3 often
// shadows the system one that Debian's python3-build installs into. ok is
// false when neither can.
func WheelBuildPath(path string) (string, bool) {
	return firstPathWith([]string{path, "/usr/bin:" + path})
}

// firstPathWith returns the first PATH value on which python3 imports the
// wheel build's modules.
func firstPathWith(paths []string) (string, bool) {
	for _, p := range paths {
		py, err := findIn(p, "python3")
		if err != nil {
			continue
		}
		cmd := exec.Command(py, "-c", "import build, setuptools, wheel")
		cmd.Env = []string{"PATH=" + p}
		if cmd.Run() == nil {
			return p, true
		}
	}
	return "", false
}

// findIn looks a program up in a PATH value.
func findIn(path, name string) (string, error) {
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// CopyExample copies a bundle directory to dst without what builds and
// test runs leave in it (dist, build, *.egg-info, caches).
func CopyExample(src, dst string) error {
	return copyTree(src, dst, func(rel string, d fs.DirEntry) bool {
		return d.Name() == "__pycache__" || d.Name() == ".pytest_cache" || rel == "dist" || rel == "build" || strings.HasSuffix(d.Name(), ".egg-info")
	})
}

// PrebuiltExample copies the example bundle to dst with its artifact
// turned into a prebuilt one (files instead of build) and a wheel of its
// Python sources packed into dist/, for runs that must not need Python's
// build tools.
func PrebuiltExample(src, dst string) error {
	if err := CopyExample(src, dst); err != nil {
		return err
	}
	root := filepath.Join(dst, "databricks.yml")
	data, err := os.ReadFile(root)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), exampleBuild) {
		return fmt.Errorf("%s: the artifact's build line %q changed; update demo.PrebuiltExample", root, exampleBuild)
	}
	data = []byte(strings.Replace(string(data), exampleBuild, "    files:\n      - source: ./dist/"+ExampleWheel+"\n", 1))
	if err := os.WriteFile(root, data, 0o644); err != nil {
		return err
	}
	return packWheel(filepath.Join(dst, "dist", ExampleWheel), filepath.Join(dst, "src"))
}

// checkout copies what the pipeline reads from the repository at root (the
// spec and workflows under .github, the action, the bundle) into a new
// directory under tmp and returns it. With prebuilt, the bundle is the
// example as PrebuiltExample leaves it.
func checkout(root, bundle, tmp string, prebuilt bool) (string, error) {
	dst, err := os.MkdirTemp(tmp, "checkout-")
	if err != nil {
		return "", fmt.Errorf("failed to create the demo checkout: %w", err)
	}
	if err := copyTree(filepath.Join(root, ".github"), filepath.Join(dst, ".github"), nil); err != nil {
		return "", fmt.Errorf("failed to copy .github: %w", err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "action.yml")); err == nil {
		if err := os.WriteFile(filepath.Join(dst, "action.yml"), data, 0o644); err != nil {
			return "", err
		}
	}
	copyBundle := CopyExample
	if prebuilt {
		copyBundle = PrebuiltExample
	}
	if err := copyBundle(filepath.Join(root, bundle), filepath.Join(dst, bundle)); err != nil {
		return "", fmt.Errorf("failed to copy %s: %w", bundle, err)
	}
	// The spec's check of the workflows reads every project's bundle and
	// the directories they depend on, so a checkout holds them all; only
	// the played bundle is built.
	others, err := specDirs(root)
	if err != nil {
		return "", err
	}
	for _, dir := range others {
		if filepath.Clean(dir) == filepath.Clean(bundle) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dst, dir)); err == nil {
			continue
		}
		if err := CopyExample(filepath.Join(root, dir), filepath.Join(dst, dir)); err != nil {
			return "", fmt.Errorf("failed to copy %s: %w", dir, err)
		}
	}
	return dst, nil
}

// specDirs lists the directories the repository's pipeline spec names
// besides its files: each project's bundle and the directories it depends
// on. A spec that is missing or does not parse names none; the pipeline's
// own check reports it.
func specDirs(root string) ([]string, error) {
	path := filepath.Join(root, ".github", "pipeline.yaml")
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	s, _, err := spec.Load(path)
	if err != nil || s == nil {
		return nil, err
	}
	var dirs []string
	for _, p := range s.Projects {
		if p.Bundle != "." {
			dirs = append(dirs, filepath.FromSlash(p.Bundle))
		}
		for _, d := range p.DependsOn {
			dirs = append(dirs, filepath.FromSlash(d.Name))
		}
	}
	return dirs, nil
}

// copyTree copies the regular files under src to dst, leaving out the
// directories skip reports (by path relative to src).
func copyTree(src, dst string, skip func(rel string, d fs.DirEntry) bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip != nil && rel != "." && skip(rel, d) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// packWheel zips the Python files under src with a minimal dist-info, as
// the example's wheel build would. It is enough for the workspace
// emulator, which stores the wheel without installing it.
func packWheel(path, src string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".py") {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err == nil {
		var w interface{ Write([]byte) (int, error) }
		if w, err = zw.Create("rag_chatbot-0.1.0.dist-info/METADATA"); err == nil {
			_, err = w.Write([]byte("Metadata-Version: 2.1\nName: rag_chatbot\nVersion: 0.1.0\n"))
		}
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
