package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/demo"
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
	if err := demo.PrebuiltExample(exampleBundle, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(tmp)
		os.Exit(2)
	}
	exampleBundle = dir
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// TestExampleWheelBuild deploys the real example with its real wheel build
// (python3 -m build): the job points at the uploaded wheel, a second
// deploy changes nothing, and a change in the package rebuilds, uploads
// the wheel and updates the job.
func TestExampleWheelBuild(t *testing.T) {
	t.Parallel()
	path, ok := demo.WheelBuildPath(os.Getenv("PATH"))
	if !ok {
		t.Skip("python3 -m build: not available (apt-get install python3-build python3-setuptools python3-wheel)")
	}
	dir := filepath.Join(t.TempDir(), "rag-chatbot")
	if err := demo.CopyExample(filepath.Join("..", "..", "examples", "rag-chatbot"), dir); err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(t, emulator.Config{})
	w.env["PATH"] = path
	code, _, errOut := w.main("deploy", "-t", "staging", "--bundle", dir)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, errOut)
	}
	t.Logf("first deploy:\n%s", errOut)
	remote := "/Shared/.bundle/rag_chatbot/staging/artifacts/.internal/" + demo.ExampleWheel
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
