package artifacts

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/google/go-cmp/cmp"
)

func TestNeedsShell(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"python3 -m build --wheel":                false,
		"python3 setup.py bdist_wheel":            false,
		`./build.sh "a b" 'c d'`:                  false,
		"uv build --wheel --out-dir=dist":         false,
		"javac X.java && jar cf x.jar X.class":    true,
		"make wheel | tee log":                    true,
		"make > log":                              true,
		"echo $HOME":                              true,
		`echo "$HOME"`:                            true,
		`echo '$HOME'`:                            false,
		"cp build/*.whl dist/":                    true,
		"VERSION=1 make":                          true,
		"make VERSION=1":                          false,
		"cd sub; make":                            true,
		"ls ~/x":                                  true,
		"echo a#b":                                false,
		"echo # comment":                          true,
		"poetry build\npoetry publish":            true,
		"mvn -q package -DskipTests=true":         false,
		"sbt 'set version := \"1\"' package":      false,
		"gradle build `date`":                     true,
		"bash -c 'python3 -m build --wheel'":      false,
		"python3 -m build --wheel --no-isolation": false,
	}
	for cmdline, want := range cases {
		if got := needsShell(cmdline); got != want {
			t.Errorf("needsShell(%q) = %v, want %v", cmdline, got, want)
		}
	}
}

// project writes a small artifact directory: a build script that copies
// src/pkg.txt into dist/ as a wheel, and prints a line.
func project(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "src"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "src", "pkg.txt"), []byte("v1"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "build.sh"), []byte(script), 0o755))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func env() []string { return []string{"PATH=/usr/bin:/bin"} }

const copyScript = "#!/bin/sh\nset -e\nmkdir -p dist\ncp src/pkg.txt dist/pkg-0.1.0-py3-none-any.whl\necho built pkg\n"

func TestBuildRunsWithoutShellAndFindsOutputs(t *testing.T) {
	t.Parallel()
	dir := project(t, copyScript)
	// An old wheel from an earlier build is removed first.
	must(t, os.MkdirAll(filepath.Join(dir, "dist"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "dist", "pkg-0.0.9-py3-none-any.whl"), []byte("old"), 0o644))
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	b := &Builder{Env: env(), Output: &out, Group: true, Now: func() time.Time { clock = clock.Add(time.Second); return clock }}
	a := bundle.Artifact{Name: "pkg", Type: "whl", Path: dir, Build: "./build.sh", Files: []string{filepath.Join(dir, "dist", "*.whl")}}
	res, err := b.Build(context.Background(), []bundle.Artifact{a, {Name: "prebuilt", Files: []string{"x"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{Name: "pkg", Command: []string{filepath.Join(dir, "build.sh")}, Duration: time.Second, Outputs: []string{filepath.Join(dir, "dist", "pkg-0.1.0-py3-none-any.whl")}}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	wantOut := "::group::build artifact pkg: ./build.sh\nbuilt pkg\n::endgroup::\n"
	if out.String() != wantOut {
		t.Errorf("output = %q, want %q", out.String(), wantOut)
	}
}

func TestBuildWithShellSyntaxRunsSh(t *testing.T) {
	t.Parallel()
	dir := project(t, copyScript)
	var out bytes.Buffer
	b := &Builder{Env: env(), Output: &out}
	a := bundle.Artifact{Name: "jar", Type: "jar", Path: dir, Build: "mkdir -p out && cp src/pkg.txt out/app.jar && echo done", Files: []string{filepath.Join(dir, "out", "*.jar")}}
	res, err := b.Build(context.Background(), []bundle.Artifact{a})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Shell || filepath.Base(res[0].Command[0]) != "sh" || res[0].Command[1] != "-c" {
		t.Errorf("command = %q (shell %v), want sh -c", res[0].Command, res[0].Shell)
	}
	if !strings.Contains(out.String(), "done\n") {
		t.Errorf("output %q lacks the build's output", out.String())
	}
}

func TestFailedBuildKeepsLastLines(t *testing.T) {
	t.Parallel()
	var script strings.Builder
	script.WriteString("#!/bin/sh\ni=1\nwhile [ $i -le 30 ]; do echo line $i; i=$((i+1)); done\necho 'error: no setup.py' >&2\nexit 3\n")
	dir := project(t, script.String())
	b := &Builder{Env: env()}
	_, err := b.Build(context.Background(), []bundle.Artifact{{Name: "pkg", Type: "whl", Path: dir, Build: "./build.sh", Files: []string{filepath.Join(dir, "dist", "*.whl")}}})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BuildError", err)
	}
	if len(be.Tail) != tailLines || be.Tail[0] != "line 12" || be.Tail[len(be.Tail)-1] != "error: no setup.py" {
		t.Errorf("tail = %q, want lines 12..30 and the error", be.Tail)
	}
	if !strings.Contains(err.Error(), `failed to build artifact "pkg" with "./build.sh": exit status 3; the last 20 lines of its output:`) {
		t.Errorf("error = %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	dir := project(t, "#!/bin/sh\necho nothing made\n")
	cases := []struct {
		build, want string
	}{
		{"no-such-builder --wheel", "no-such-builder is not on PATH"},
		{"python3-missing-here -m build", "python3-missing-here is not on PATH"},
		{"./build.sh", "the build succeeded but made none of its files (dist/*.whl)"},
		{`./build.sh "unclosed`, "check its quotes"},
	}
	for _, c := range cases {
		b := &Builder{Env: env()}
		_, err := b.Build(context.Background(), []bundle.Artifact{{Name: "pkg", Type: "whl", Path: dir, Build: c.build, Files: []string{filepath.Join(dir, "dist", "*.whl")}}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("build %q: err = %v, want it to say %q", c.build, err, c.want)
		}
	}
}

func TestMissingPythonSaysWhatToInstall(t *testing.T) {
	t.Parallel()
	b := &Builder{Env: []string{"PATH=" + t.TempDir()}}
	_, err := b.Build(context.Background(), []bundle.Artifact{{Name: "pkg", Type: "whl", Path: t.TempDir(), Build: bundle.DefaultWheelBuild, Files: []string{"x"}}})
	if err == nil || !strings.Contains(err.Error(), "python3 is not on PATH (install Python 3; python3 -m build needs the build module: apt-get install python3-build") {
		t.Errorf("err = %v", err)
	}
}

func TestCancelledBuild(t *testing.T) {
	t.Parallel()
	dir := project(t, "#!/bin/sh\nexec sleep 30\n")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	b := &Builder{Env: env()}
	start := time.Now()
	_, err := b.Build(ctx, []bundle.Artifact{{Name: "pkg", Path: dir, Build: "./build.sh", Files: []string{"x"}}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the build was not stopped")
	}
}

func writeZip(t *testing.T, path string, mod time.Time, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"pkg/__init__.py", "pkg-0.1.dist-info/METADATA"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Modified: mod, Method: zip.Deflate})
		must(t, err)
		_, err = w.Write([]byte(files[name]))
		must(t, err)
	}
	must(t, zw.Close())
	must(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func TestHashIgnoresZipTimestamps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{"pkg/__init__.py": "x = 1\n", "pkg-0.1.dist-info/METADATA": "Name: pkg\n"}
	a, b, c := filepath.Join(dir, "a.whl"), filepath.Join(dir, "b.whl"), filepath.Join(dir, "c.whl")
	writeZip(t, a, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), files)
	writeZip(t, b, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), files)
	files["pkg/__init__.py"] = "x = 2\n"
	writeZip(t, c, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), files)
	ha, _ := Hash(a)
	hb, _ := Hash(b)
	hc, _ := Hash(c)
	if ha != hb {
		t.Errorf("same entries, other timestamps: %s != %s", ha, hb)
	}
	if ha == hc {
		t.Errorf("changed entry, same hash %s", ha)
	}
	plain := filepath.Join(dir, "p.jar")
	must(t, os.WriteFile(plain, []byte("not a zip"), 0o644))
	if h, err := Hash(plain); err != nil || len(h) != 64 {
		t.Errorf("Hash(not a zip) = %q, %v; want the file's sha256", h, err)
	}
	if _, err := Hash(filepath.Join(dir, "missing.whl")); err == nil {
		t.Error("Hash of a missing file succeeded")
	}
}

func TestDynamicVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	build := func(src string) string {
		p := filepath.Join(dir, "pkg-0.1.0-py3-none-any.whl")
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range [][2]string{
			{"pkg/__init__.py", src},
			{"pkg-0.1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 0.1.0\n\nVersion: 0.1.0 in the description stays\n"},
			{"pkg-0.1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n"},
			{"pkg-0.1.0.dist-info/RECORD", "stale\n"},
		} {
			w, err := zw.Create(e[0])
			must(t, err)
			_, err = w.Write([]byte(e[1]))
			must(t, err)
		}
		must(t, zw.Close())
		must(t, os.WriteFile(p, buf.Bytes(), 0o644))
		return p
	}
	first, err := DynamicVersion(build("x = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pkg-0.1.0-py3-none-any.whl")); err == nil {
		t.Error("the unpatched wheel is still there")
	}
	again, err := DynamicVersion(build("x = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("same sources, other names: %s, %s", first, again)
	}
	changed, err := DynamicVersion(build("x = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if changed == first {
		t.Errorf("changed sources, same name %s", changed)
	}
	base := filepath.Base(changed)
	if !strings.HasPrefix(base, "pkg-0.1.0+") || !strings.HasSuffix(base, "-py3-none-any.whl") {
		t.Fatalf("patched name %s", base)
	}
	version := strings.TrimPrefix(strings.Split(base, "-")[1], "")
	r, err := zip.OpenReader(changed)
	must(t, err)
	defer r.Close()
	got := map[string]string{}
	for _, f := range r.File {
		rc, err := f.Open()
		must(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(rc)
		rc.Close()
		must(t, err)
		got[f.Name] = b.String()
	}
	info := "pkg-" + version + ".dist-info/"
	if got[info+"METADATA"] != "Metadata-Version: 2.1\nName: pkg\nVersion: "+version+"\n\nVersion: 0.1.0 in the description stays\n" {
		t.Errorf("METADATA = %q", got[info+"METADATA"])
	}
	rec := got[info+"RECORD"]
	for _, want := range []string{"pkg/__init__.py,sha256=", info + "METADATA,sha256=", info + "RECORD,,\n"} {
		if !strings.Contains(rec, want) {
			t.Errorf("RECORD lacks %q:\n%s", want, rec)
		}
	}
	if strings.Contains(rec, "stale") {
		t.Errorf("RECORD kept its old content:\n%s", rec)
	}
	if _, err := DynamicVersion(filepath.Join(dir, "notawheel.zip")); err == nil {
		t.Error("a non-wheel name was patched")
	}
}
