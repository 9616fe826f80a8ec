package main

import (
	"archive/zip"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/emulator"
	"github.com/google/go-cmp/cmp"
)

// wheelBundle is a bundle whose artifact is "built" by a shell script run
// directly (no Python needed): it copies the package source into dist/ as
// the wheel. Two jobs use the wheel, one does not.
const wheelBundle = `bundle:
  name: wheels
targets:
  dev:
    default: true
artifacts:
  pkg:
    type: whl
    path: ./pkg
    build: ./build.sh
resources:
  jobs:
    serverless:
      name: serverless
      tasks:
        - task_key: main
          python_wheel_task: {package_name: pkg, entry_point: main}
          environment_key: default
      environments:
        - environment_key: default
          spec:
            client: "1"
            dependencies:
              - ./pkg/dist/*.whl
    on_cluster:
      name: on cluster
      tasks:
        - task_key: main
          python_wheel_task: {package_name: pkg, entry_point: main}
          new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}
          libraries:
            - whl: ./pkg/dist/*.whl
    other:
      name: other
      tasks:
        - task_key: main
          notebook_task: {notebook_path: ./nb.py}
          new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}
`

const copyBuild = "#!/bin/sh\nset -e\nmkdir -p dist\ncp src/pkg.py dist/pkg-0.1.0-py3-none-any.whl\necho wheel written\n"

// countRequests counts the requests after the first n with a path prefix.
func countRequests(srv *emulator.Server, n int, method, prefix string) int {
	c := 0
	for _, r := range srv.Requests()[n:] {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) {
			c++
		}
	}
	return c
}

func TestDeployBuildsAndUploadsArtifacts(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"databricks.yml":   wheelBundle,
		"nb.py":            "# Databricks notebook source\nprint(1)\n",
		".gitignore":       "dist/\n",
		"pkg/build.sh":     copyBuild,
		"pkg/src/pkg.py":   "def main():\n    print('v1')\n",
		"pkg/dist/old.whl": "left by an earlier build",
	})
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok", "PATH": "/usr/bin:/bin"}
	wheel := "/Workspace/Users/user@example.com/.bundle/wheels/dev/artifacts/.internal/pkg-0.1.0-py3-none-any.whl"
	stored := strings.TrimPrefix(wheel, "/Workspace") // the emulator's key

	// First deploy: the build runs, the wheel goes to the artifact path
	// and both jobs point at it.
	code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"build artifact pkg: ./build.sh\nwheel written\n", "built artifact pkg in ", "(without a shell): pkg/dist/pkg-0.1.0-py3-none-any.whl", "artifacts: uploaded 1, deleted 0, unchanged 0"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, errOut)
		}
	}
	if got := string(srv.Files("tok")[stored]); got != "def main():\n    print('v1')\n" {
		t.Errorf("uploaded wheel = %q", got)
	}
	byName := map[string][]string{}
	for _, s := range srv.Jobs("tok") {
		var refs []string
		for _, task := range s.Tasks {
			for _, l := range task.Libraries {
				refs = append(refs, l.Whl)
			}
		}
		for _, e := range s.Environments {
			refs = append(refs, e.Spec.Dependencies...)
		}
		byName[s.Name] = refs
	}
	if diff := cmp.Diff(map[string][]string{"serverless": {wheel}, "on cluster": {wheel}, "other": nil}, byName); diff != "" {
		t.Errorf("job references (-want +got):\n%s", diff)
	}
	for f := range srv.Files("tok") {
		if strings.HasSuffix(f, ".whl") && f != stored {
			t.Errorf("a wheel was also uploaded to %s", f)
		}
	}

	// Second deploy without changes: the build runs, the wheel hashes the
	// same, nothing is uploaded and no job changes.
	n := len(srv.Requests())
	code, _, errOut = runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if code != 0 || !strings.Contains(errOut, "no changes: bundle wheels is up to date") {
		t.Fatalf("redeploy: exit %d\n%s", code, errOut)
	}
	if c := countRequests(srv, n, "POST", "/api/2.2/jobs/"); c != 0 {
		t.Errorf("redeploy made %d jobs requests", c)
	}
	// A deploy that changes nothing takes no lock: no import at all.
	if c := countRequests(srv, n, "POST", "/api/2.0/workspace/import"); c != 0 {
		t.Errorf("redeploy made %d imports, want none", c)
	}

	// A change in the package's source: plan says what changes, deploy
	// uploads one file and resets the two jobs that use it.
	writeFiles(t, dir, map[string]string{"pkg/src/pkg.py": "def main():\n    print('v2')\n"})
	code, out, errOut := runMain(env, "plan", "-t", "dev", "--bundle", dir)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"  update job on_cluster (\"on cluster\")\n      artifact pkg-0.1.0-py3-none-any.whl: \"sha256:",
		"  unchanged job other\n",
		"artifacts: build and upload 1, 0 deleted, 0 unchanged\n  + " + wheel + " (artifact pkg): updates job on_cluster, serverless\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	n = len(srv.Requests())
	code, _, errOut = runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if code != 0 {
		t.Fatalf("deploy after a change: exit %d\n%s", code, errOut)
	}
	if c := countRequests(srv, n, "POST", "/api/2.2/jobs/reset"); c != 2 {
		t.Errorf("deploy after a change reset %d jobs, want 2\n%s", c, errOut)
	}
	// The source file is synced too; the wheel goes to the artifact path.
	if !strings.Contains(errOut, "files: uploaded 1, deleted 0") || !strings.Contains(errOut, "artifacts: uploaded 1, deleted 0, unchanged 0") {
		t.Errorf("deploy after a change:\n%s", errOut)
	}
	if got := string(srv.Files("tok")[stored]); !strings.Contains(got, "v2") {
		t.Errorf("uploaded wheel = %q, want the new build", got)
	}

	// A failing build changes nothing and shows the build's last lines.
	writeFiles(t, dir, map[string]string{
		"pkg/src/pkg.py": "def main():\n    print('v3')\n",
		"pkg/build.sh":   "#!/bin/sh\necho compiling\necho 'error: invalid syntax in pkg.py' >&2\nexit 1\n",
	})
	n = len(srv.Requests())
	code, _, errOut = runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if code != 1 {
		t.Fatalf("failing build: exit %d, want 1\n%s", code, errOut)
	}
	for _, want := range []string{`failed to build artifact "pkg" with "./build.sh": exit status 1; the last 2 lines of its output:` + "\n    compiling\n    error: invalid syntax in pkg.py", "nothing was changed in the workspace"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("failing build output lacks %q:\n%s", want, errOut)
		}
	}
	for _, r := range srv.Requests()[n:] {
		if r.Method != "GET" {
			t.Errorf("a failing build still sent %s %s", r.Method, r.Path)
		}
	}

	// Destroy removes the uploaded wheel with the rest.
	writeFiles(t, dir, map[string]string{"pkg/build.sh": copyBuild})
	if code, _, errOut := runMain(env, "destroy", "-t", "dev", "--bundle", dir, "--auto-approve"); code != 0 {
		t.Fatalf("destroy: exit %d\n%s", code, errOut)
	}
	if _, ok := srv.Files("tok")[stored]; ok {
		t.Error("destroy left the wheel")
	}
}

// A glob that matches nothing after the build is an error at the
// reference, and nothing is deployed.
func TestArtifactGlobMatchingNothingAfterTheBuild(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"databricks.yml": strings.Replace(wheelBundle, "- whl: ./pkg/dist/*.whl", "- whl: ./pkg/dist/other-*.whl", 1),
		"nb.py":          "# Databricks notebook source\nprint(1)\n",
		"pkg/build.sh":   copyBuild,
		"pkg/src/pkg.py": "x = 1\n",
	})
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok", "PATH": "/usr/bin:/bin"}
	code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	want := filepath.Join(dir, "databricks.yml") + `:32:20: path "./pkg/dist/other-*.whl" matches no file after artifact "pkg" was built`
	if code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, want 1 with\n%s\ngot:\n%s", code, want, errOut)
	}
	if len(srv.Jobs("tok")) != 0 {
		t.Error("jobs were deployed")
	}
	if slices.ContainsFunc(srv.Requests(), func(r emulator.Request) bool { return r.Method == "POST" }) {
		t.Error("the workspace was changed")
	}
}

// Offline validate says what will be built instead of reporting the
// wheel as missing.
func TestValidateOfflineSaysWhatWillBeBuilt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"databricks.yml": wheelBundle,
		"nb.py":          "# Databricks notebook source\nprint(1)\n",
		"pkg/build.sh":   copyBuild,
		"pkg/src/pkg.py": "x = 1\n",
	})
	code, out, errOut := runMain(map[string]string{}, "validate", "--offline", "--bundle", dir, "--fail-level", "error")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`artifact "pkg" is built by plan and deploy: "./build.sh" runs in pkg [artifact-build]`,
		`path "./pkg/dist/*.whl" is built by artifact "pkg", so it is not checked offline`,
	} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("validate lacks %q:\n%s%s", want, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pkg", "dist")); err == nil {
		t.Error("validate ran the build")
	}
}

// A new version of the wheel is a new file: it is uploaded, the jobs point
// at it, and the old version's file is deleted.
func TestArtifactNewVersionReplacesTheOld(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := t.TempDir()
	versioned := "#!/bin/sh\nset -e\nmkdir -p dist\ncp src/pkg.py dist/pkg-$(cat VERSION)-py3-none-any.whl\n"
	writeFiles(t, dir, map[string]string{
		"databricks.yml": wheelBundle,
		".gitignore":     "dist/\n",
		"nb.py":          "# Databricks notebook source\nprint(1)\n",
		"pkg/build.sh":   versioned,
		"pkg/VERSION":    "0.1.0",
		"pkg/src/pkg.py": "x = 1\n",
	})
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok", "PATH": "/usr/bin:/bin"}
	internal := "/Users/user@example.com/.bundle/wheels/dev/artifacts/.internal/"
	if code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, errOut)
	}
	writeFiles(t, dir, map[string]string{"pkg/VERSION": "0.2.0"})
	code, out, errOut := runMain(env, "plan", "-t", "dev", "--bundle", dir)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	want := "artifacts: build and upload 1, 1 deleted, 0 unchanged\n  + /Workspace" + internal + "pkg-0.2.0-py3-none-any.whl (artifact pkg): updates job on_cluster, serverless\n  - /Workspace" + internal + "pkg-0.1.0-py3-none-any.whl\n"
	if !strings.Contains(out, want) || !strings.Contains(out, "update job serverless") {
		t.Errorf("plan lacks\n%s\ngot:\n%s", want, out)
	}
	if code, _, errOut = runMain(env, "deploy", "-t", "dev", "--bundle", dir); code != 0 || !strings.Contains(errOut, "artifacts: uploaded 1, deleted 1, unchanged 0") {
		t.Fatalf("deploy of the new version: exit %d\n%s", code, errOut)
	}
	files := srv.Files("tok")
	if _, ok := files[internal+"pkg-0.1.0-py3-none-any.whl"]; ok {
		t.Error("the old version is still uploaded")
	}
	if _, ok := files[internal+"pkg-0.2.0-py3-none-any.whl"]; !ok {
		t.Error("the new version is not uploaded")
	}
	for _, s := range srv.Jobs("tok") {
		if s.Name == "on cluster" && s.Tasks[0].Libraries[0].Whl != "/Workspace"+internal+"pkg-0.2.0-py3-none-any.whl" {
			t.Errorf("job on cluster uses %s", s.Tasks[0].Libraries[0].Whl)
		}
	}
}

// With dynamic_version the wheel's version carries a label from its
// content: a rebuild of the same sources changes nothing, a change deploys
// a new file name, the jobs point at it and the old file is deleted.
func TestArtifactDynamicVersion(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := t.TempDir()
	yml := strings.Replace(wheelBundle, "    build: ./build.sh\n", "    build: ./build.sh\n    dynamic_version: true\n", 1)
	writeFiles(t, dir, map[string]string{
		"databricks.yml": yml,
		".gitignore":     "dist/\n",
		"nb.py":          "# Databricks notebook source\nprint(1)\n",
		// The "build" copies a wheel the test wrote, so no Python is needed.
		"pkg/build.sh": "#!/bin/sh\nset -e\nmkdir -p dist\ncp wheel.zip dist/pkg-0.1.0-py3-none-any.whl\n",
	})
	wheelZip := func(src string) {
		t.Helper()
		p := filepath.Join(dir, "pkg", "wheel.zip")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		for name, content := range map[string]string{"pkg/__init__.py": src, "pkg-0.1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: pkg\nVersion: 0.1.0\n", "pkg-0.1.0.dist-info/RECORD": ""} {
			w, _ := zw.Create(name)
			w.Write([]byte(content))
		}
		if err := errors.Join(zw.Close(), f.Close()); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok", "PATH": "/usr/bin:/bin"}
	uploaded := func() []string {
		var out []string
		for f := range srv.Files("tok") {
			if strings.HasSuffix(f, ".whl") {
				out = append(out, path.Base(f))
			}
		}
		return out
	}
	wheelZip("x = 1\n")
	if code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, errOut)
	}
	first := uploaded()
	if len(first) != 1 || !strings.HasPrefix(first[0], "pkg-0.1.0+") {
		t.Fatalf("uploaded %q, want one pkg-0.1.0+<label> wheel", first)
	}
	if code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir); code != 0 || !strings.Contains(errOut, "no changes") {
		t.Fatalf("redeploy: exit %d\n%s", code, errOut)
	}
	wheelZip("x = 2\n")
	code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if code != 0 || !strings.Contains(errOut, "artifacts: uploaded 1, deleted 1, unchanged 0") {
		t.Fatalf("deploy after a change: exit %d\n%s", code, errOut)
	}
	second := uploaded()
	if len(second) != 1 || second[0] == first[0] {
		t.Errorf("uploaded %q after a change, first %q", second, first)
	}
	for _, s := range srv.Jobs("tok") {
		if s.Name == "on cluster" && path.Base(s.Tasks[0].Libraries[0].Whl) != second[0] {
			t.Errorf("job on cluster uses %s, want %s", s.Tasks[0].Libraries[0].Whl, second[0])
		}
	}
}
