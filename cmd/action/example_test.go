package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/emulator"
)

// TestMain points exampleBundle at a copy of the example whose wheel is
// already built: the tests that deploy and run the example many times in
// parallel are not about builds, must not need Python and must not build
// in one directory at once. The builds themselves are tested on
// artifacts_test.go's bundle, and on the real example in
// TestExampleWheelBuild when Python's build module is there.
func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "brickci-example-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dir := filepath.Join(tmp, "rag-chatbot")
	if err := prebuiltExample(exampleBundle, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(tmp)
		os.Exit(2)
	}
	exampleBundle = dir
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// exampleWheel is the file name the example's build produces.
const exampleWheel = "rag_chatbot-0.1.0-py3-none-any.whl"

// prebuiltExample copies the example to dst with its artifact turned into
// a prebuilt one (files instead of build) and a wheel of its sources in
// dist/.
func prebuiltExample(src, dst string) error {
	if err := copyExample(src, dst); err != nil {
		return err
	}
	root := filepath.Join(dst, "databricks.yml")
	data, err := os.ReadFile(root)
	if err != nil {
		return err
	}
	const build = "    build: python3 -m build --wheel --no-isolation\n"
	if !strings.Contains(string(data), build) {
		return fmt.Errorf("%s: the artifact's build line %q changed; update prebuiltExample", root, build)
	}
	data = []byte(strings.Replace(string(data), build, "    files:\n      - source: ./dist/"+exampleWheel+"\n", 1))
	if err := os.WriteFile(root, data, 0o644); err != nil {
		return err
	}
	return writeWheel(filepath.Join(dst, "dist", exampleWheel), filepath.Join(dst, "src"))
}

// copyExample copies the example without what builds and test runs leave.
func copyExample(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			switch {
			case d.Name() == "__pycache__", d.Name() == ".pytest_cache", rel == "dist", rel == "build", strings.HasSuffix(d.Name(), ".egg-info"):
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// writeWheel zips the Python files under src with a minimal dist-info, as
// a wheel build would.
func writeWheel(path, src string) error {
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
		rel, _ := filepath.Rel(src, p)
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

// wheelPython returns a PATH on which python3 has the modules the
// example's build needs (build, setuptools, wheel): the one the tests run
// with, else the system interpreter's directory first (pyenv shims often
// shadow it). ok is false when neither has them.
func wheelPython(t *testing.T) (path string, ok bool) {
	t.Helper()
	for _, p := range []string{os.Getenv("PATH"), "/usr/bin:" + os.Getenv("PATH")} {
		cmd := exec.Command("python3", "-c", "import build, setuptools, wheel")
		cmd.Env = append(os.Environ(), "PATH="+p)
		if lp, err := findProgram(p, "python3"); err == nil {
			cmd.Path = lp
			if cmd.Run() == nil {
				return p, true
			}
		}
	}
	return "", false
}

func findProgram(path, name string) (string, error) {
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// TestExampleWheelBuild deploys the real example with its real wheel build
// (python3 -m build): the job points at the uploaded wheel, a second
// deploy changes nothing, and a change in the package rebuilds, uploads
// the wheel and updates the job.
func TestExampleWheelBuild(t *testing.T) {
	t.Parallel()
	path, ok := wheelPython(t)
	if !ok {
		t.Skip("python3 -m build: not available (apt-get install python3-build python3-setuptools python3-wheel)")
	}
	dir := filepath.Join(t.TempDir(), "rag-chatbot")
	if err := copyExample(filepath.Join("..", "..", "examples", "rag-chatbot"), dir); err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(t, emulator.Config{})
	w.env["PATH"] = path
	code, _, errOut := w.main("deploy", "-t", "staging", "--bundle", dir)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, errOut)
	}
	t.Logf("first deploy:\n%s", errOut)
	remote := "/Shared/.bundle/rag_chatbot/staging/artifacts/.internal/" + exampleWheel
	data, ok := w.em.Files("tok")[remote]
	if !ok {
		t.Fatalf("no wheel at %s", remote)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the uploaded wheel is not a zip: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, "rag_chatbot/chunking.py") || !slices.Contains(names, "rag_chatbot-0.1.0.dist-info/METADATA") {
		t.Errorf("wheel entries %q", names)
	}
	for _, s := range w.em.Jobs("tok") {
		for _, task := range s.Tasks {
			if task.TaskKey == "pdf_chunks_embeddings" || task.TaskKey == "offline_evaluation" {
				if len(task.Libraries) != 1 || task.Libraries[0].Whl != "/Workspace"+remote {
					t.Errorf("task %s libraries %+v, want the uploaded wheel", task.TaskKey, task.Libraries)
				}
			}
		}
	}
	n := len(w.em.Requests())
	if code, _, errOut = w.main("deploy", "-t", "staging", "--bundle", dir); code != 0 || !strings.Contains(errOut, "no changes") {
		t.Fatalf("redeploy: exit %d\n%s", code, errOut)
	}
	if c := countRequests(w.em, n, "POST", "/api/2.2/jobs/"); c != 0 {
		t.Errorf("a rebuild of unchanged sources changed %d jobs", c)
	}
	chunking := filepath.Join(dir, "src", "rag_chatbot", "chunking.py")
	src, err := os.ReadFile(chunking)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chunking, append(src, []byte("\n# changed\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	n = len(w.em.Requests())
	if code, _, errOut = w.main("deploy", "-t", "staging", "--bundle", dir); code != 0 {
		t.Fatalf("deploy after a change: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "artifacts: uploaded 1, deleted 0, unchanged 0") || countRequests(w.em, n, "POST", "/api/2.2/jobs/reset") != 1 {
		t.Errorf("deploy after a change:\n%s", errOut)
	}
}
