package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

const goodBundle = "../../internal/bundle/testdata/good/mlops"

func runValidate(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	return runMain(env, append([]string{"validate"}, args...)...)
}

func TestValidateExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"good bundle, two targets", []string{"--bundle", goodBundle, "-t", "staging", "-t", "prod"}, 0, `bundle "mlops_demo", target "prod" (mode production)`, "validating offline: no Databricks credentials"},
		{"findings fail", []string{"--bundle", "../../internal/bundle/testdata/bad/dependency-cycle"}, 1, "databricks.yml:7:21: tasks of job \"etl\" depend on each other in a cycle", ""},
		{"warnings pass at error level", []string{"--bundle", "../../internal/bundle/testdata/bad/existing-cluster"}, 0, "[existing-cluster]", ""},
		{"warnings fail at warning level", []string{"--bundle", "../../internal/bundle/testdata/bad/existing-cluster", "--fail-level", "warning"}, 1, "[existing-cluster]", ""},
		{"unknown target is a bad invocation", []string{"--bundle", goodBundle, "-t", "qa"}, 2, `target "qa" is not defined`, ""},
		{"unparsable databricks.yml is unreadable input", []string{"--bundle", "../../internal/bundle/testdata/bad/yaml-malformed"}, 2, "invalid YAML: found unexpected end of stream [yaml]", ""},
		{"unparsable spec is reported", []string{"--bundle", goodBundle, "--spec", "../../internal/spec/testdata/bad/syntax.yaml"}, 2, "invalid YAML: did not find expected ',' or '}' [spec-yaml]", ""},
		{"missing bundle", []string{"--bundle", "testdata/validate/nothing-here"}, 2, "", "no databricks.yml"},
		{"bad format", []string{"--bundle", goodBundle, "--format", "sarif"}, 2, "", `unknown format "sarif"`},
		{"bad var", []string{"--bundle", goodBundle, "--var", "novalue"}, 2, "", `invalid variable "novalue"`},
		{"stray argument", []string{"--bundle", goodBundle, "extra"}, 2, "", "unexpected arguments"},
		{"explicit offline", []string{"--bundle", goodBundle, "--offline", "-t", "dev"}, 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runValidate(t, nil, c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.stdout) {
				t.Errorf("stdout lacks %q:\n%s", c.stdout, stdout)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, stderr)
			}
			// Offline because the user asked: nothing to say about it.
			if slices.Contains(c.args, "--offline") && stderr != "" {
				t.Errorf("stderr should be empty:\n%s", stderr)
			}
		})
	}
}

// TestNotesNeverCorruptJSON runs validate with --format json and stdout and
// stderr merged into one stream, as `2>&1` does in CI scripts: the stream
// must still be one JSON document, and the notes ride inside it.
func TestNotesNeverCorruptJSON(t *testing.T) {
	t.Parallel()
	srv := fakeWorkspace(t)
	em := newWorkspace(t, emulator.Config{})
	cases := []struct {
		name string
		env  map[string]string
		args []string
		note string // "" when the JSON has no notes list (plan)
	}{
		{"no credentials", nil, []string{"validate", "--bundle", goodBundle, "-t", "dev", "--format", "json"}, "validating offline: no Databricks credentials"},
		{"online, host flag", map[string]string{"DATABRICKS_TOKEN": "dapi-test"}, []string{"validate", "--bundle", "testdata/validate/online", "--host", srv.URL, "--format", "json"}, "validating online as jane.doe@example.com on " + srv.URL},
		{"lint, no workflows", nil, []string{"lint", "--root", t.TempDir(), "--format", "json"}, "no workflow or action files"},
		{"plan, host flag", em.env, []string{"plan", "-t", "staging", "--bundle", exampleBundle, "--host", em.url, "--format", "json"}, ""},
	}
	for _, c := range cases {
		var merged bytes.Buffer
		Main(context.Background(), c.args, func(k string) string { return c.env[k] }, &merged, &merged)
		var got struct {
			Findings []any    `json:"findings"`
			Notes    []string `json:"notes"`
		}
		dec := json.NewDecoder(&merged)
		if err := dec.Decode(&got); err != nil {
			t.Errorf("%s: merged output is not JSON: %v\n%s", c.name, err, merged.String())
			continue
		}
		if dec.More() {
			t.Errorf("%s: more than one JSON value in the merged output", c.name)
		}
		if !strings.Contains(strings.Join(got.Notes, "\n"), c.note) {
			t.Errorf("%s: notes %q lack %q", c.name, got.Notes, c.note)
		}
		if c.note == "" && strings.Contains(merged.String(), "using host") {
			t.Errorf("%s: the host note was printed", c.name)
		}
	}
}

func TestValidateJSON(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runValidate(t, nil, "--bundle", goodBundle, "-t", "staging,dev", "--var", "catalog=from flag", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Findings []map[string]any          `json:"findings"`
		Summary  map[string]int            `json:"summary"`
		Targets  map[string]map[string]any `json:"targets"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, stdout)
	}
	if diff := cmp.Diff(map[string]int{"errors": 0, "warnings": 0, "infos": 1}, got.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if len(got.Findings) != 1 || got.Findings[0]["rule"] != "unresolved-lookup" || got.Findings[0]["file"] != "../../internal/bundle/testdata/good/mlops/databricks.yml" {
		t.Errorf("findings = %v", got.Findings)
	}
	staging := got.Targets["staging"]
	vars, _ := staging["variables"].(map[string]any)
	if vars["catalog"] != "from flag" {
		t.Errorf("--var did not win over the target value: %v", vars["catalog"])
	}
	jobs := staging["resources"].(map[string]any)["jobs"].(map[string]any)
	name := jobs["model_workflow"].(map[string]any)["name"]
	if name != "staging-model-workflow" {
		t.Errorf("staging job name = %v", name)
	}
	devJobs := got.Targets["dev"]["resources"].(map[string]any)["jobs"].(map[string]any)
	if n := devJobs["model_workflow"].(map[string]any)["name"]; !strings.HasPrefix(n.(string), "[dev ") {
		t.Errorf("dev job name lacks the development prefix: %v", n)
	}
}

func TestValidateGitHubSummary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	summary := dir + "/summary.md"
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "INPUT_BUNDLE": goodBundle, "INPUT_TARGET": "staging"}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"validate"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := readFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Bundle `mlops_demo`, target `staging`", "```mermaid\ngraph TD\n", "t0 --> t1", "## brickci validate"} {
		if !strings.Contains(data, want) {
			t.Errorf("step summary lacks %q:\n%s", want, data)
		}
	}
	if !strings.Contains(stdout.String(), "title=unresolved-lookup::unresolved lookup") {
		t.Errorf("want an annotation for the unresolved lookup, got:\n%s", stdout.String())
	}
}

// fakeWorkspace answers the few endpoints online validation calls.
func fakeWorkspace(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/2.0/preview/scim/v2/Me", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"userName": "jane.doe@example.com", "displayName": "Jane"}`))
	})
	mux.HandleFunc("/api/2.1/clusters/get", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Cluster 0000-000000-missing does not exist"}`))
	})
	mux.HandleFunc("/api/2.0/sql/warehouses", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"warehouses": [{"id": "wh1", "name": "Shared SQL"}]}`))
	})
	mux.HandleFunc("/api/2.0/sql/warehouses/wh1", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id": "wh1", "name": "Shared SQL"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestValidateOnline(t *testing.T) {
	t.Parallel()
	srv := fakeWorkspace(t)
	env := map[string]string{"DATABRICKS_HOST": srv.URL, "DATABRICKS_TOKEN": "dapi-test"}
	code, stdout, stderr := runValidate(t, env, "--bundle", "testdata/validate/online")
	if !strings.Contains(stderr, "validating online as jane.doe@example.com on "+srv.URL) {
		t.Errorf("stderr lacks the online line:\n%s", stderr)
	}
	code, stdout, stderr = runValidate(t, env, "--bundle", "testdata/validate/online", "--format", "json")
	if stderr != "" {
		t.Errorf("with --format json the notes belong in the JSON, stderr has:\n%s", stderr)
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 for the missing cluster\n%s", code, stdout)
	}
	var got struct {
		Findings []struct{ Rule, File string } `json:"findings"`
		Targets  map[string]map[string]any     `json:"targets"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range got.Findings {
		rules = append(rules, f.Rule)
	}
	if diff := cmp.Diff([]string{"cluster-missing", "existing-cluster"}, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	ws := got.Targets["staging"]["workspace"].(map[string]any)
	if cu := ws["current_user"].(map[string]any); cu["userName"] != "jane.doe@example.com" || cu["short_name"] != "jane_doe" {
		t.Errorf("current user = %v", cu)
	}
	if v := got.Targets["staging"]["variables"].(map[string]any)["warehouse"]; v != "wh1" {
		t.Errorf("lookup resolved to %v, want wh1", v)
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// TestBinaryJSONWithMergedStreams runs the built binary online against a
// workspace without the host-metadata endpoint (the SDK warns about that on
// the process's stderr) with stdout and stderr merged: the output must
// still be exactly one JSON document.
func TestBinaryJSONWithMergedStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := buildBrickci(t)
	srv := fakeWorkspace(t)
	cmd := exec.Command(bin, "validate", "--bundle", "testdata/validate/online", "--host", srv.URL, "--format", "json")
	cmd.Env = []string{"DATABRICKS_TOKEN=dapi-test", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput()
	dec := json.NewDecoder(bytes.NewReader(out))
	var got struct {
		Notes []string `json:"notes"`
	}
	if err := dec.Decode(&got); err != nil || dec.More() {
		t.Fatalf("merged output is not one JSON document (%v):\n%s", err, out)
	}
	if !strings.Contains(strings.Join(got.Notes, "\n"), "validating online as jane.doe@example.com") {
		t.Errorf("notes = %q", got.Notes)
	}
}

// The spec's skip-unsupported entries are checked where they are written:
// a type brickci deploys or an unknown one would make every generated
// deploy fail with a bad invocation.
func TestValidateChecksSpecSkips(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundleYML := "bundle:\n  name: demo\ntargets:\n  staging:\n    default: true\n  prod: {}\n"
	specYML := "project: demo\nbundle: .\naction: ./\nskip-unsupported: [genie_spaces, jobs, genie_spacs]\n" +
		"targets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"
	for name, content := range map[string]string{"databricks.yml": bundleYML, "pipeline.yaml": specYML} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(dir, "pipeline.yaml")
	code, out, errOut := runMain(map[string]string{}, "validate", "--offline", "--format", "text", "--bundle", dir, "--spec", spec, "-t", "staging")
	got := out + errOut
	for _, want := range []string{
		spec + `:4:34: "jobs" is deployed by brickci and cannot be skipped; --skip-unsupported takes types it does not deploy [pipeline-skip]`,
		spec + `:4:40: unknown resource type "genie_spacs" in --skip-unsupported; did you mean "genie_spaces"? [pipeline-skip]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("validate output lacks\n%s\n%s", want, got)
		}
	}
	if strings.Contains(got, ":4:20:") {
		t.Errorf("genie_spaces is a valid entry but was reported:\n%s", got)
	}
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
}
