package gen

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/lint"
)

// monorepoFiles are the workflows of testdata/monorepo.yaml: one lint and
// one deploy-cicd workflow, and the bundle workflows of each project.
var monorepoFiles = []string{
	"chatbot-bundle-cd-prod.yml", "chatbot-bundle-cd-staging.yml", "chatbot-bundle-ci.yml", "chatbot-run-tests.yml",
	"deploy-cicd.yml", "lint-cicd-workflow-files.yml",
	"reports-bundle-cd-prod.yml", "reports-bundle-cd-staging.yml", "reports-bundle-ci.yml",
	"scoring-bundle-cd-prod.yml", "scoring-bundle-cd-staging.yml", "scoring-bundle-ci.yml",
}

func generateMonorepo(t *testing.T) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/monorepo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(parse(t, data), specPath)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestMonorepoGolden pins the workflows of a spec with three projects.
func TestMonorepoGolden(t *testing.T) {
	t.Parallel()
	files := generateMonorepo(t)
	if diff := cmp.Diff(monorepoFiles, slices.Sorted(maps.Keys(files))); diff != "" {
		t.Fatalf("file names (-want +got):\n%s", diff)
	}
	data, _ := os.ReadFile("testdata/monorepo.yaml")
	s := parse(t, data)
	if diff := cmp.Diff(monorepoFiles, slices.Sorted(slices.Values(FileNames(s)))); diff != "" {
		t.Errorf("FileNames (-want +got):\n%s", diff)
	}
	for _, name := range monorepoFiles {
		golden := filepath.Join("testdata", "golden", "monorepo", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(files[name])); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	again := generateMonorepo(t)
	if diff := cmp.Diff(files, again); diff != "" {
		t.Errorf("regeneration differs (-first +second):\n%s", diff)
	}
}

// TestMonorepoLint lints a two-project repository's generated workflows
// with actionlint and brickci's own rules: neither may find anything, and
// every workflow keeps the guarantees of a single project's.
func TestMonorepoLint(t *testing.T) {
	t.Parallel()
	const src = `action: ./
targets:
  test: {auth: {type: github-oidc, client-id: "${{ vars.TEST_ID }}"}}
  staging: {auth: {type: pat, token-secret: STAGING_TOKEN}}
  prod: {auth: {type: oauth-m2m, client-id-secret: PROD_ID, client-secret-secret: PROD_SECRET}}
lint: {code-scanning: true}
generate: {token-secret: WORKFLOWS_TOKEN}
projects:
  - project: rag_chatbot
    bundle: examples/rag-chatbot
    depends-on: [libs/common]
    tests:
      unit: {python: "3.12", requirements: requirements.txt}
      integration: {jobs: [model_workflow]}
    release: {run: [model_workflow]}
    build: {python: "3.11"}
    skip-unsupported: [experiments]
  - project: batch_inference
    bundle: examples/batch-inference
    depends-on: [libs/common]
    targets:
      prod: {environment: batch-prod, auth: {type: pat, token-secret: BATCH_PROD_TOKEN}}
    tests:
      integration: {jobs: [batch_inference]}
`
	files, err := Generate(parse(t, []byte(src)), specPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 {
		t.Errorf("got %d files %q, want 10", len(files), slices.Sorted(maps.Keys(files)))
	}
	root := t.TempDir()
	actionYAML, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "action.yml"), string(actionYAML))
	for name, data := range files {
		writeFile(t, filepath.Join(root, ".github", "workflows", name), string(data))
		assertExemplary(t, name, string(data))
	}
	findings, err := Lint(files, root, "./", ".github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 {
		t.Errorf("actionlint findings:\n%v", findings)
	}
	all, err := lint.Run(context.Background(), lint.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var got diag.List
	for _, f := range all {
		// Without shellcheck and pyflakes lint says so; that is no finding
		// about the workflows.
		if f.Rule != "external-tools" {
			got = append(got, f)
		}
	}
	if len(got) != 0 {
		t.Errorf("brickci lint findings:\n%v", got)
	}

	// Each project's deploys have groups of their own, so one project's
	// deploy never waits for another's.
	groups := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		for _, line := range strings.Split(string(files[name]), "\n") {
			g, ok := strings.CutPrefix(strings.TrimSpace(line), "group: ")
			if !ok || strings.Contains(g, "${{ github.workflow }}") {
				continue
			}
			if other, dup := groups[g]; dup {
				t.Errorf("%s and %s share the concurrency group %q", other, name, g)
			}
			groups[g] = name
		}
	}
	for _, g := range []string{"rag_chatbot-deploy-staging", "rag_chatbot-deploy-prod", "batch_inference-deploy-staging", "batch_inference-deploy-prod", "deploy-cicd"} {
		if _, ok := groups[g]; !ok {
			t.Errorf("no concurrency group %q in %v", g, groups)
		}
	}
	// The project's own prod environment and credentials, the inherited
	// ones elsewhere.
	for name, wants := range map[string][]string{
		"batch_inference-bundle-cd-prod.yml": {"environment: batch-prod\n", "DATABRICKS_TOKEN: ${{ secrets.BATCH_PROD_TOKEN }}"},
		"rag_chatbot-bundle-cd-prod.yml":     {"environment: prod\n", "DATABRICKS_CLIENT_ID: ${{ secrets.PROD_ID }}", "mode: run", "skip_unsupported: experiments"},
		"batch_inference-run-tests.yml":      {"bundle: examples/batch-inference", "jobs: batch_inference", "id-token: write"},
	} {
		for _, w := range wants {
			if !strings.Contains(string(files[name]), w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
	}
	for name, nots := range map[string][]string{
		"batch_inference-bundle-cd-prod.yml": {"mode: run", "PROD_ID", "skip_unsupported", "setup-python"},
		"batch_inference-bundle-ci.yml":      {"rag-chatbot"},
	} {
		for _, n := range nots {
			if strings.Contains(string(files[name]), n) {
				t.Errorf("%s has %q of another project", name, n)
			}
		}
	}
}

// pathFilters are the path filters of one generated workflow, by event.
type pathFilters struct {
	On map[string]struct {
		Paths []string `yaml:"paths"`
	} `yaml:"on"`
}

// triggers reports whether a workflow with these path filters runs for a
// change to the files changed, as GitHub decides: a file counts when the
// last pattern it matches is not negated (!), and the workflow runs when
// at least one file counts. The filters are globs where * stops at / and
// ** does not, which is doublestar's syntax, except that GitHub also reads
// ** at the start of a component followed by more ("**.js") as crossing
// directories, which doublestar spells **/*.js.
func triggers(t *testing.T, patterns, changed []string) bool {
	t.Helper()
	for _, file := range changed {
		in := false
		for _, p := range patterns {
			neg := strings.HasPrefix(p, "!")
			p = strings.TrimPrefix(p, "!")
			parts := strings.Split(p, "/")
			for i, part := range parts {
				if rest, ok := strings.CutPrefix(part, "**"); ok && rest != "" {
					parts[i] = "**/*" + rest
				}
			}
			ok, err := doublestar.Match(strings.Join(parts, "/"), file)
			if err != nil {
				t.Fatalf("bad pattern %q: %v", p, err)
			}
			if ok {
				in = !neg
			}
		}
		if in {
			return true
		}
	}
	return false
}

// TestMonorepoPaths takes the path filters of the generated workflows and
// shows which workflows a change runs: a change under one project's
// bundle runs only that project's, a change in a shared directory runs
// every project that depends on it, and a change to the spec or the
// workflows runs lint.
func TestMonorepoPaths(t *testing.T) {
	t.Parallel()
	files := generateMonorepo(t)
	filters := map[string]map[string][]string{}
	for name, data := range files {
		var pf pathFilters
		if err := yaml.Unmarshal(data, &pf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		filters[name] = map[string][]string{}
		for event, f := range pf.On {
			filters[name][event] = f.Paths
		}
	}
	run := func(event string, changed ...string) []string {
		var out []string
		for _, name := range slices.Sorted(maps.Keys(filters)) {
			if f, ok := filters[name][event]; ok && triggers(t, f, changed) {
				out = append(out, strings.TrimSuffix(name, ".yml"))
			}
		}
		return out
	}
	cases := []struct {
		name        string
		changed     []string
		pullRequest []string
		push        []string
	}{
		{
			name:        "one project's notebook",
			changed:     []string{"bundles/scoring/notebooks/score.py"},
			pullRequest: []string{"scoring-bundle-ci"},
			push:        []string{"scoring-bundle-cd-prod", "scoring-bundle-cd-staging"},
		},
		{
			name:        "one project's bundle file",
			changed:     []string{"bundles/chatbot/databricks.yml"},
			pullRequest: []string{"chatbot-bundle-ci", "chatbot-run-tests"},
			push:        []string{"chatbot-bundle-cd-prod", "chatbot-bundle-cd-staging"},
		},
		{
			name:        "a directory named like a bundle",
			changed:     []string{"bundles/chatbot-v2/databricks.yml", "bundles/README.md"},
			pullRequest: nil,
			push:        nil,
		},
		{
			name:        "a library two projects share",
			changed:     []string{"libs/common/utils/io.py"},
			pullRequest: []string{"chatbot-bundle-ci", "chatbot-run-tests", "scoring-bundle-ci"},
			push:        []string{"chatbot-bundle-cd-prod", "chatbot-bundle-cd-staging", "scoring-bundle-cd-prod", "scoring-bundle-cd-staging"},
		},
		{
			name:        "a library one project uses",
			changed:     []string{"libs/features/f.py"},
			pullRequest: []string{"scoring-bundle-ci"},
			push:        []string{"scoring-bundle-cd-prod", "scoring-bundle-cd-staging"},
		},
		{
			name:        "a project's extra path",
			changed:     []string{"config/scoring/thresholds.json"},
			pullRequest: []string{"scoring-bundle-ci"},
			push:        []string{"scoring-bundle-cd-prod", "scoring-bundle-cd-staging"},
		},
		{
			name:    "the spec",
			changed: []string{".github/pipeline.yaml"},
			pullRequest: []string{"chatbot-bundle-ci", "chatbot-run-tests", "lint-cicd-workflow-files",
				"reports-bundle-ci", "scoring-bundle-ci"},
			push: []string{"chatbot-bundle-cd-prod", "chatbot-bundle-cd-staging", "reports-bundle-cd-prod", "reports-bundle-cd-staging",
				"scoring-bundle-cd-prod", "scoring-bundle-cd-staging"},
		},
		{
			name:        "one project's workflow",
			changed:     []string{".github/workflows/reports-bundle-cd-prod.yml"},
			pullRequest: []string{"lint-cicd-workflow-files"},
			push:        []string{"reports-bundle-cd-prod"},
		},
		{
			name:        "a hand-written workflow",
			changed:     []string{".github/workflows/go.yml"},
			pullRequest: []string{"lint-cicd-workflow-files"},
		},
		{
			name:        "the local action",
			changed:     []string{"action.yml"},
			pullRequest: []string{"lint-cicd-workflow-files"},
		},
		{
			name:    "elsewhere",
			changed: []string{"README.md", "libs/other/x.py", "docs/spec.md"},
		},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.pullRequest, run("pull_request", c.changed...)); diff != "" {
			t.Errorf("%s: pull request workflows (-want +got):\n%s", c.name, diff)
		}
		if diff := cmp.Diff(c.push, run("push", c.changed...)); diff != "" {
			t.Errorf("%s: push workflows (-want +got):\n%s", c.name, diff)
		}
	}
	// deploy-cicd runs only by hand.
	if len(filters[DeployCICDFile]) != 1 {
		t.Errorf("deploy-cicd triggers: %v", filters[DeployCICDFile])
	}
}

// TestTriggersNegation pins the matcher the paths test relies on to
// GitHub's documented examples.
func TestTriggersNegation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		patterns []string
		file     string
		want     bool
	}{
		{[]string{"sub/**"}, "sub/a/b.py", true},
		{[]string{"sub/**"}, "subx/a.py", false},
		{[]string{"*.js"}, "app.js", true},
		{[]string{"*.js"}, "js/app.js", false},
		{[]string{"**.js"}, "js/app.js", true},
		{[]string{"**.js"}, "app.js", true},
		{[]string{"docs/**.md"}, "docs/a/b.md", true},
		{[]string{"docs/**.md"}, "docs/a/b.txt", false},
		{[]string{"sub/**", "!sub/docs/**"}, "sub/docs/a.md", false},
		{[]string{"!sub/docs/**", "sub/**"}, "sub/docs/a.md", true},
	} {
		if got := triggers(t, c.patterns, []string{c.file}); got != c.want {
			t.Errorf("%q on %s = %v, want %v", c.patterns, c.file, got, c.want)
		}
	}
}

// TestMonorepoDrift removes a project from a spec: its workflows, and only
// they, are stale; regenerating removes them and leaves hand-written
// workflows and those generated from another spec alone.
func TestMonorepoDrift(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/monorepo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, dir := range []string{"bundles/chatbot", "bundles/scoring", "bundles/reports"} {
		writeFile(t, filepath.Join(root, dir, "databricks.yml"), "bundle: {name: x}\n")
	}
	for _, dir := range []string{"libs/common", "libs/features"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	actionYAML, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "action.yml"), string(actionYAML))
	writeFile(t, filepath.Join(root, specPath), string(src))
	res, err := Write(root, specPath, ".github/workflows")
	if err != nil || res.Findings.AtLeast(diag.Error) {
		t.Fatalf("write: %v %v", err, res.Findings)
	}
	if len(res.Changed) != len(monorepoFiles) {
		t.Errorf("wrote %q", res.Changed)
	}
	wf := filepath.Join(root, ".github", "workflows")
	writeFile(t, filepath.Join(wf, "go.yml"), "name: hand-written\non: push\n")
	other := "# Code generated by genworkflows from other/pipeline.yaml; DO NOT EDIT.\n# spec-sha256: 00\n\nname: other\n"
	writeFile(t, filepath.Join(wf, "other-bundle-ci.yml"), other)
	if res, err := Check(root, specPath, ".github/workflows"); err != nil || len(res.Drifts) != 0 {
		t.Fatalf("drift right after writing: %v %+v", err, res.Drifts)
	}

	// Remove the scoring project.
	cut := strings.Index(string(src), "  - project: scoring\n")
	end := strings.Index(string(src), "  - project: reports\n")
	writeFile(t, filepath.Join(root, specPath), string(src[:cut])+string(src[end:]))
	res, err = Check(root, specPath, ".github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, d := range res.Drifts {
		if d.Kind != Stale {
			t.Errorf("%s: %s, want only stale files", d.File, d.Kind)
		}
		stale = append(stale, d.File)
	}
	want := []string{".github/workflows/scoring-bundle-cd-prod.yml", ".github/workflows/scoring-bundle-cd-staging.yml", ".github/workflows/scoring-bundle-ci.yml"}
	if diff := cmp.Diff(want, stale); diff != "" {
		t.Errorf("stale files (-want +got):\n%s", diff)
	}
	res, err = Write(root, specPath, ".github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, res.Removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if len(res.Changed) != 0 {
		t.Errorf("rewrote %q; the other projects' workflows did not change", res.Changed)
	}
	entries, err := os.ReadDir(wf)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	wantLeft := []string{"chatbot-bundle-cd-prod.yml", "chatbot-bundle-cd-staging.yml", "chatbot-bundle-ci.yml", "chatbot-run-tests.yml",
		"deploy-cicd.yml", "go.yml", "lint-cicd-workflow-files.yml", "other-bundle-ci.yml",
		"reports-bundle-cd-prod.yml", "reports-bundle-cd-staging.yml", "reports-bundle-ci.yml"}
	if diff := cmp.Diff(wantLeft, left); diff != "" {
		t.Errorf("workflows left (-want +got):\n%s", diff)
	}
	if data, _ := os.ReadFile(filepath.Join(wf, "other-bundle-ci.yml")); string(data) != other {
		t.Error("a workflow generated from another spec was changed")
	}
}
