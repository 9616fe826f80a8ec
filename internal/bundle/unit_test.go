package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
)

// writeBundle writes files (slash paths to contents) into a new directory.
func writeBundle(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const precedenceYAML = `
bundle: {name: p}
variables:
  v:
    default: from-default
  n:
    default: 3
targets:
  t:
    default: true
    variables:
      v: from-target
resources:
  jobs:
    j:
      name: ${var.v}
      max_concurrent_runs: ${var.n}
`

func TestVariablePrecedence(t *testing.T) {
	t.Parallel()
	dir := writeBundle(t, map[string]string{"databricks.yml": precedenceYAML})
	cases := []struct {
		name string
		vars map[string]string
		env  map[string]string
		want string
	}{
		{"target over default", nil, nil, "from-target"},
		{"env over target", nil, map[string]string{"BUNDLE_VAR_v": "from-env"}, "from-env"},
		{"flag over env", map[string]string{"v": "from-flag"}, map[string]string{"BUNDLE_VAR_v": "from-env"}, "from-flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, l, err := Load(LoadOptions{Dir: dir, Vars: c.vars, Getenv: func(k string) string { return c.env[k] }})
			if err != nil || b == nil || len(l) > 0 {
				t.Fatalf("load: %v %v", err, l)
			}
			if got := b.Jobs["j"].Config["name"]; got != c.want {
				t.Errorf("name = %v, want %q", got, c.want)
			}
			// A whole-string reference keeps the integer type.
			if got := b.Jobs["j"].Config["max_concurrent_runs"]; got != int64(3) {
				t.Errorf("max_concurrent_runs = %#v, want int64(3)", got)
			}
		})
	}
}

func TestUndeclaredFlagVariable(t *testing.T) {
	t.Parallel()
	dir := writeBundle(t, map[string]string{"databricks.yml": precedenceYAML})
	_, l, err := Load(LoadOptions{Dir: dir, Vars: map[string]string{"vv": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || l[0].Rule != "undefined-variable" || !strings.Contains(l[0].Message, `did you mean "v"?`) {
		t.Errorf("findings = %v", l)
	}
}

func TestOnlineUserAndLookup(t *testing.T) {
	t.Parallel()
	dir := writeBundle(t, map[string]string{"databricks.yml": `
bundle: {name: u}
variables:
  cluster_id:
    lookup: {cluster: shared}
targets:
  dev: {mode: development}
resources:
  jobs:
    j:
      tasks:
        - task_key: a
          existing_cluster_id: ${var.cluster_id}
          notebook_task: {notebook_path: /Workspace/x}
      schedule: {quartz_cron_expression: "0 0 * * * ?", timezone_id: UTC}
`})
	u := NewUser("jane.doe@example.com")
	var asked []string
	b, l, err := Load(LoadOptions{Dir: dir, CurrentUser: &u, Lookups: func(kind, name string) (string, error) {
		asked = append(asked, kind+"="+name)
		return "0101-abc", nil
	}})
	if err != nil || len(l) > 0 {
		t.Fatalf("load: %v %v", err, l)
	}
	cfg := b.Jobs["j"].Config
	want := map[string]any{
		"name":                "[dev jane_doe] j",
		"max_concurrent_runs": int64(4),
		"tags":                map[string]any{"dev": "jane_doe"},
		"schedule":            map[string]any{"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC", "pause_status": "PAUSED"},
		"tasks": []any{map[string]any{
			"task_key":            "a",
			"existing_cluster_id": "0101-abc",
			"notebook_task":       map[string]any{"notebook_path": "/Workspace/x"},
		}},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"cluster=shared"}, asked); diff != "" {
		t.Errorf("lookups (-want +got):\n%s", diff)
	}
	if b.Workspace.RootPath != "/Workspace/Users/jane.doe@example.com/.bundle/u/dev" || b.Workspace.StatePath != b.Workspace.RootPath+"/state" {
		t.Errorf("workspace = %+v", b.Workspace)
	}
}

func TestNewUser(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want User
	}{
		{"jane.doe+ml@example.com", User{UserName: "jane.doe+ml@example.com", ShortName: "jane_doe_ml"}},
		{"6f1c2a4e-3b7d-4e8a-9c0f-1a2b3c4d5e6f", User{UserName: "6f1c2a4e-3b7d-4e8a-9c0f-1a2b3c4d5e6f", ShortName: "6f1c2a4e_3b7d_4e8a_9c0f_1a2b3c4d5e6f", IsServicePrincipal: true}},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, NewUser(c.in)); diff != "" {
			t.Errorf("NewUser(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	dir := writeBundle(t, map[string]string{
		"databricks.yml":           "bundle: {name: f}\nsync:\n  exclude: [\"*.csv\"]\n  include: [\"dist/keep.whl\"]\n",
		".gitignore":               "dist/\n*.log\n",
		"notebooks/a.py":           "# Databricks notebook source\nprint(1)\n",
		"notebooks/q.sql":          "-- Databricks notebook source\nSELECT 1\n",
		"notebooks/e.ipynb":        "{}",
		"src/lib.py":               "x = 1\n",
		"src/sub/.gitignore":       "secret.txt\n",
		"src/sub/secret.txt":       "no",
		"src/sub/ok.txt":           "yes",
		"data/big.csv":             "1,2",
		"dist/keep.whl":            "wheel",
		"dist/other.whl":           "wheel",
		"run.log":                  "log",
		".git/HEAD":                "ref",
		".databricks/bundle/x.txt": "state",
	})
	b, l, err := Load(LoadOptions{Dir: dir})
	if err != nil || len(l) > 0 {
		t.Fatalf("load: %v %v", err, l)
	}
	files, err := Files(b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.RemotePath("/W/files"))
	}
	want := []string{
		"/W/files/.gitignore",
		"/W/files/databricks.yml",
		"/W/files/dist/keep.whl",
		"/W/files/notebooks/a",
		"/W/files/notebooks/e",
		"/W/files/notebooks/q",
		"/W/files/src/lib.py",
		"/W/files/src/sub/.gitignore",
		"/W/files/src/sub/ok.txt",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestMermaid(t *testing.T) {
	t.Parallel()
	got := Mermaid([]Task{{Key: "a"}, {Key: `b"<x>`, DependsOn: []string{"a"}}, {Key: "c", DependsOn: []string{"a", `b"<x>`, "gone"}}})
	want := "graph TD\n  t0[\"a\"]\n  t1[\"b#quot;#lt;x#gt;\"]\n  t2[\"c\"]\n  t0 --> t1\n  t0 --> t2\n  t1 --> t2\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mermaid (-want +got):\n%s", diff)
	}
}

func TestCheckPipelineRefs(t *testing.T) {
	t.Parallel()
	b := &Bundle{RootFile: "b/databricks.yml", Target: "prod", Targets: []string{"staging", "prod"}, Jobs: map[string]*Job{"model_workflow": {}}}
	got := CheckPipelineRefs(b, []Ref{
		{Kind: "target", Name: "staging", File: "p.yaml", Line: 3, Column: 5},
		{Kind: "target", Name: "stagign", File: "p.yaml", Line: 4, Column: 5},
		{Kind: "job", Name: "model_workflow", File: "p.yaml", Line: 8, Column: 9},
		{Kind: "job", Name: "model_wokflow", File: "p.yaml", Line: 9, Column: 9},
	})
	var lines []string
	for _, f := range got {
		lines = append(lines, f.String())
	}
	want := []string{
		`p.yaml:4:5: target "stagign" is not defined in bundle b/databricks.yml; defined targets are ["staging" "prod"]; did you mean "staging"? [pipeline-ref]`,
		`p.yaml:9:9: job "model_wokflow" is not defined in bundle b/databricks.yml (target "prod"); defined jobs are ["model_workflow"]; did you mean "model_workflow"? [pipeline-ref]`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A spec without a build block is told when the bundle builds with Python,
// and only then.
func TestCheckPipelineRefsBuildPython(t *testing.T) {
	t.Parallel()
	noPython := []Ref{{Kind: "no-build-python", File: "p.yaml", Line: 1, Column: 1}}
	for _, c := range []struct {
		artifacts []Artifact
		want      int
	}{
		{nil, 0},
		{[]Artifact{{Name: "jar", Type: "jar", Build: "sbt package"}}, 0},
		{[]Artifact{{Name: "lib", Type: "whl"}}, 1},
		{[]Artifact{{Name: "lib", Build: "/usr/bin/python3 setup.py bdist_wheel"}}, 1},
		{[]Artifact{{Name: "a", Type: "whl"}, {Name: "b", Type: "whl"}}, 1},
	} {
		b := &Bundle{RootFile: "b/databricks.yml", Artifacts: c.artifacts}
		got := CheckPipelineRefs(b, noPython)
		if len(got) != c.want {
			t.Errorf("artifacts %+v: %d findings, want %d: %v", c.artifacts, len(got), c.want, got)
			continue
		}
		if c.want == 1 && (got[0].Severity != diag.Warning || !strings.Contains(got[0].Message, "add build: {python:")) {
			t.Errorf("finding %v is not the build warning", got[0])
		}
	}
}

func TestAliasBombIsAFinding(t *testing.T) {
	t.Parallel()
	var s strings.Builder
	s.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		s.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				s.WriteString(", ")
			}
			s.WriteString("*a" + string(rune('0'+i-1)))
		}
		s.WriteString("]\n")
	}
	dir := writeBundle(t, map[string]string{"databricks.yml": s.String()})
	b, l, err := Load(LoadOptions{Dir: dir})
	if err != nil || b != nil || len(l) != 1 || l[0].Rule != "yaml" || !strings.Contains(l[0].Message, "through aliases") {
		t.Errorf("got %v %v %v", b, l, err)
	}
}

// interpolate parses src as a whole configuration and resolves references
// in it, returning the findings.
func interpolate(src []byte) (*yaml.Node, diag.List) {
	t := newTree()
	root, l := t.parse("databricks.yml", src)
	if root == nil {
		return nil, l
	}
	vars := map[string]*variable{}
	decls := get(root, "variables")
	if decls != nil && decls.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(decls.Content); i += 2 {
			vars[decls.Content[i].Value] = &variable{name: decls.Content[i].Value, decl: decls.Content[i], value: get(decls.Content[i+1], "default")}
		}
	}
	r := newResolver(t, root, vars)
	r.resolve(root)
	return root, append(l, r.diags...)
}

func TestInterpolateCycles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src  string
		want []string
	}{
		{"variables:\n  a: {default: '${var.a}'}\nx: ${var.a}\n", []string{"databricks.yml:2:16: reference cycle var.a -> var.a: give one of them a literal value [reference-cycle]"}},
		{"bundle: {name: '${bundle.name}x'}\n", []string{"databricks.yml:1:16: reference cycle bundle.name -> bundle.name: give one of them a literal value [reference-cycle]"}},
		{"variables:\n  c: {default: {x: '${var.c.y}', y: '${var.c.x}'}}\nz: ${var.c}\n", []string{"databricks.yml:2:37: reference cycle var.c.x -> var.c.y -> var.c.x: give one of them a literal value [reference-cycle]"}},
		{"variables:\n  c: {default: [1, {k: v}]}\nz: ${var.c[1].k}-${var.c[0]}\n", nil},
	}
	for _, c := range cases {
		_, l := interpolate([]byte(c.src))
		var got []string
		for _, f := range l {
			got = append(got, f.String())
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", c.src, diff)
		}
	}
}

func TestInterpolateGrowthIsBounded(t *testing.T) {
	t.Parallel()
	var s strings.Builder
	s.WriteString("variables:\n  v0: {default: xxxxxxxxxxxxxxxx}\n")
	for i := 1; i < 40; i++ {
		s.WriteString("  v" + itoa(i) + ": {default: '${var.v" + itoa(i-1) + "}${var.v" + itoa(i-1) + "}'}\n")
	}
	s.WriteString("x: ${var.v39}\n")
	_, l := interpolate([]byte(s.String()))
	if len(l) == 0 {
		t.Fatal("want a finding for the runaway value")
	}
	for _, f := range l {
		if !strings.Contains(f.Message, "grows beyond") {
			t.Errorf("unexpected finding %v", f)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestIsolateMovesEveryWorkspacePath(t *testing.T) {
	t.Parallel()
	u := NewUser("someone@example.com")
	b, l, err := Load(LoadOptions{Dir: "testdata/good/mlops", Target: "staging", CurrentUser: &u, Isolate: &Isolation{Name: "pr-42"}})
	if err != nil || l.AtLeast(diag.Error) {
		t.Fatalf("load: %v %v", err, l)
	}
	plain, _, _ := Load(LoadOptions{Dir: "testdata/good/mlops", Target: "staging", CurrentUser: &u})
	if b.Workspace.RootPath != plain.Workspace.RootPath+"/pr-42" {
		t.Errorf("root path %q, want %q", b.Workspace.RootPath, plain.Workspace.RootPath+"/pr-42")
	}
	for name, p := range map[string]string{"file": b.Workspace.FilePath, "state": b.Workspace.StatePath} {
		if !strings.HasPrefix(p, b.Workspace.RootPath+"/") && !strings.HasSuffix(p, "/pr-42") {
			t.Errorf("%s path %q is not isolated", name, p)
		}
	}
	for key, j := range b.Jobs {
		for _, task := range j.Config["tasks"].([]any) {
			nb, _ := task.(map[string]any)["notebook_task"].(map[string]any)
			if nb != nil && !strings.HasPrefix(nb["notebook_path"].(string), b.Workspace.FilePath+"/") {
				t.Errorf("job %s notebook %v outside the isolated file path %s", key, nb["notebook_path"], b.Workspace.FilePath)
			}
		}
	}
}

// TestResourceTypesCoverCLISchema checks that every resource type and every
// top-level field the Databricks CLI's bundle schema accepts is known to
// the loader, so no valid bundle gets an unknown-field warning for them.
func TestResourceTypesCoverCLISchema(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/cli-resource-fields.txt")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		typ, list, _ := strings.Cut(line, ":")
		seen[typ] = true
		rt, ok := resourceTypes[typ]
		if !ok {
			t.Errorf("resource type %q of the CLI schema is unknown", typ)
			continue
		}
		fields := fieldsOf(rt)
		for _, f := range strings.Fields(list) {
			if _, ok := fields[f]; !ok {
				t.Errorf("resources.%s: field %q of the CLI schema is unknown", typ, f)
			}
		}
	}
	for typ := range resourceTypes {
		if !seen[typ] {
			t.Errorf("resource type %q is not in the CLI schema", typ)
		}
	}
}

// TestStrictMakesUnknownFieldsErrors checks that Strict raises unknown
// fields, and nothing else, to errors, and that without it they warn.
func TestStrictMakesUnknownFieldsErrors(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "bad", "unknown-field")
	count := func(strict bool) (unknownErrors, unknownWarnings, others int) {
		_, l, err := Load(LoadOptions{Dir: dir, Strict: strict})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range l {
			switch {
			case f.Rule == "unknown-field" && f.Severity == diag.Error:
				unknownErrors++
			case f.Rule == "unknown-field" && f.Severity == diag.Warning:
				unknownWarnings++
			case f.Severity == diag.Error:
				others++
			}
		}
		return
	}
	if e, w, o := count(false); e != 0 || w != 2 || o != 2 {
		t.Errorf("default: %d unknown-field errors, %d warnings, %d other errors; want 0, 2, 2", e, w, o)
	}
	if e, w, o := count(true); e != 2 || w != 0 || o != 2 {
		t.Errorf("strict: %d unknown-field errors, %d warnings, %d other errors; want 2, 0, 2", e, w, o)
	}
}

// TestFilesUnderSyncPaths checks what a deploy uploads when sync.paths
// reaches outside the bundle: the files under each entry, placed relative
// to the common root, and nothing else.
func TestFilesUnderSyncPaths(t *testing.T) {
	t.Parallel()
	user := NewUser("someone@example.com")
	b, l, err := Load(LoadOptions{Dir: filepath.Join("testdata", "real", "shared-code", "bundle"), CurrentUser: &user})
	if err != nil || l.AtLeast(diag.Warning) {
		t.Fatalf("%v %v", err, l)
	}
	files, err := Files(b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.RemotePath(b.Workspace.FilePath))
	}
	base := "/Workspace/Users/someone@example.com/.bundle/bundle_with_shared_code/default/files/"
	want := []string{
		base + "bundle/src/notebook",
		base + "bundle/src/python.py",
		base + "shared/.gitignore",
		base + "shared/config/data.json",
		base + "shared/shared_library/__init__.py",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("uploaded files (-want +got):\n%s", diff)
	}
	nb := b.Jobs["example_job_with_notebook"].Config["tasks"].([]any)[0].(map[string]any)["notebook_task"].(map[string]any)["notebook_path"]
	if nb != base+"bundle/src/notebook" {
		t.Errorf("notebook_path = %v, want the uploaded notebook", nb)
	}
}

// TestBuiltArtifactsAreDeployed builds (by hand) what the artifacts
// fixture's artifacts produce: the wheel glob then expands to the built
// wheel, references point at the artifact path's .internal folder, the
// built files are listed for upload there and not synced with the files.
func TestBuiltArtifactsAreDeployed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "real", "artifacts"))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"my_wheel/dist/my_wheel-0.1.0-py3-none-any.whl", "print_args/PrintArgs.jar"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("built"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	user := NewUser("someone@example.com")
	b, l, err := Load(LoadOptions{Dir: dir, CurrentUser: &user, ArtifactsBuilt: true})
	if err != nil || len(l) > 0 {
		t.Fatalf("%v %v", err, l)
	}
	internal := "/Workspace/Users/someone@example.com/.bundle/artifacts/default/artifacts/.internal/"
	lib := b.Jobs["wheel_on_cluster"].Config["tasks"].([]any)[0].(map[string]any)["libraries"]
	if diff := cmp.Diff([]any{map[string]any{"whl": internal + "my_wheel-0.1.0-py3-none-any.whl"}}, lib); diff != "" {
		t.Errorf("libraries (-want +got):\n%s", diff)
	}
	deps := b.Jobs["wheel_job"].Config["environments"].([]any)[0].(map[string]any)["spec"].(map[string]any)["dependencies"]
	if diff := cmp.Diff([]any{internal + "my_wheel-0.1.0-py3-none-any.whl"}, deps); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}
	want := []ArtifactFile{
		{Artifact: "my_wheel", Abs: filepath.Join(dir, "my_wheel/dist/my_wheel-0.1.0-py3-none-any.whl"), Remote: internal + "my_wheel-0.1.0-py3-none-any.whl"},
		{Artifact: "my_java_code", Abs: filepath.Join(dir, "print_args/PrintArgs.jar"), Remote: internal + "PrintArgs.jar"},
	}
	if diff := cmp.Diff(want, b.ArtifactFiles); diff != "" {
		t.Errorf("artifact files (-want +got):\n%s", diff)
	}
	files, err := Files(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Rel, ".whl") {
			t.Errorf("built file %s (in the ignored dist/) is synced with the bundle's files; it belongs in the artifact path", f.Rel)
		}
	}
}

// TestArtifactMissingAfterBuild: a glob an artifact should have produced
// that matches nothing once the build ran is an error at the reference.
func TestArtifactMissingAfterBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "real", "artifacts"))); err != nil {
		t.Fatal(err)
	}
	_, l, err := Load(LoadOptions{Dir: dir, ArtifactsBuilt: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range l {
		got = append(got, fmt.Sprintf("%d:%d %s %s", f.Line, f.Column, f.Severity, f.Rule))
	}
	want := []string{"30:17 error path-missing", "42:20 error path-missing", "55:20 error path-missing"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%v", diff, l)
	}
}
