package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/jobs"

	"github.com/brickci/brickci/internal/emulator"
)

func TestDeployModes(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := writeBundle(t, helloBundle)
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok"}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
		return code, out.String(), errb.String()
	}
	cases := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"plan", "-t", "dev", "--bundle", dir}, 0, "create job hello"},
		{[]string{"deploy", "-t", "dev", "--bundle", dir}, 0, "job hello: " + url + "/jobs/"},
		{[]string{"plan", "-t", "dev", "--bundle", dir}, 0, "no changes"},
		{[]string{"destroy", "-t", "dev", "--bundle", dir}, 2, "refusing to destroy target \"dev\" without --auto-approve"},
		{[]string{"deploy", "--bundle", dir}, 2, "missing target"},
		{[]string{"destroy", "-t", "dev", "--bundle", dir, "--auto-approve"}, 0, "destroyed bundle demo target dev"},
		{[]string{"destroy", "-t", "dev", "--bundle", dir, "--auto-approve"}, 0, `nothing to destroy: target "dev" has no deployment at /Workspace/Users/`},
	}
	for _, c := range cases {
		code, out, errOut := run(c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.contains) {
			t.Fatalf("%q: exit %d, want %d containing %q\nstdout: %s\nstderr: %s", c.args, code, c.code, c.contains, out, errOut)
		}
	}
	if n := len(srv.Jobs("tok")); n != 0 {
		t.Errorf("destroy left %d jobs", n)
	}
}

// A bundle with a resource type brickci does not deploy is never deployed
// in part unasked: plan warns, deploy fails before any change, and with
// --skip-unsupported it deploys the rest and its summary names what was
// left out.
// deployedTypes are the types deploy handles, as its messages list them.
const deployedTypes = "alerts, apps, clusters, dashboards, experiments, jobs, model_serving_endpoints, models, pipelines, quality_monitors, registered_models, schemas, secret_scopes, sql_warehouses and volumes"

func TestDeployRefusesUnsupportedResources(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := writeBundle(t, "bundle:\n  name: demo\ntargets:\n  dev:\n    default: true\nresources:\n  vector_search_endpoints:\n    raw:\n      name: raw\n  jobs:\n    hello:\n      name: hello\n      tasks:\n        - task_key: main\n          notebook_task:\n            notebook_path: ./nb.py\n")
	at := filepath.Join(dir, "databricks.yml") + ":8:5: "
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok"}

	code, out, errOut := runMain(env, "plan", "-t", "dev", "--bundle", dir)
	if want := at + `warning: vector_search_endpoints "raw" is not deployed by brickci, which deploys ` + deployedTypes + `; a deploy fails on it unless --skip-unsupported vector_search_endpoints is given [unsupported-resource]`; code != 0 || !strings.Contains(errOut, want) || !strings.Contains(out, "create job hello") {
		t.Errorf("plan: exit %d, want 0 with\n%s\n%s%s", code, want, out, errOut)
	}

	code, _, errOut = runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if want := at + `vector_search_endpoints "raw" is not deployed by brickci, which deploys ` + deployedTypes + `; the deploy stops before changing anything: deploy it with the Databricks CLI and pass --skip-unsupported vector_search_endpoints [unsupported-resource]`; code != exitFailed || !strings.Contains(errOut, want) {
		t.Errorf("deploy: exit %d, want %d with\n%s\n%s", code, exitFailed, want, errOut)
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("the refused deploy sent %s %s", r.Method, r.Path)
		}
	}

	for _, c := range []struct{ skip, want string }{
		{"jobs", `"jobs" is deployed by brickci and cannot be skipped`},
		{"vector_search_endpoint", `unknown resource type "vector_search_endpoint" in --skip-unsupported; did you mean "vector_search_endpoints"?`},
	} {
		if code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir, "--skip-unsupported", c.skip); code != exitBadCall || !strings.Contains(errOut, c.want) {
			t.Errorf("--skip-unsupported %s: exit %d, want %d with %q\n%s", c.skip, code, exitBadCall, c.want, errOut)
		}
	}

	summary := filepath.Join(t.TempDir(), "summary.md")
	aenv := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary,
		"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out"), "INPUT_MODE": "deploy", "INPUT_TARGET": "dev", "INPUT_BUNDLE": dir, "INPUT_SKIP_UNSUPPORTED": "vector_search_endpoints"}
	if code, _, errOut := runMain(aenv); code != 0 || !strings.Contains(errOut, `vector_search_endpoints "raw" is skipped (--skip-unsupported vector_search_endpoints)`) {
		t.Fatalf("deploy with skip_unsupported: exit %d\n%s", code, errOut)
	}
	if len(srv.Jobs("tok")) != 1 {
		t.Error("the job was not deployed")
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**Not deployed** (`--skip-unsupported`)") || !strings.Contains(string(md), "- vector\\_search\\_endpoints `raw`") {
		t.Errorf("summary does not name the skipped vector search endpoint:\n%s", md)
	}
}

// plan --refresh shows a job edited in the workspace; deploy --refresh
// puts the bundle's settings back.
func TestRefreshThroughTheModes(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{})
	w.deploy(t, "staging")
	var id int64
	var name string
	for jid, s := range w.em.Jobs("tok") {
		id, name = jid, s.Name
	}
	client, err := databricks.NewWorkspaceClient(&databricks.Config{Host: w.url, Token: "tok", AuthType: "pat"})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Jobs.Update(context.Background(), jobs.UpdateJob{JobId: id, NewSettings: &jobs.JobSettings{MaxConcurrentRuns: 7}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := w.main("plan", "-t", "staging", "--bundle", exampleBundle)
	if code != 0 || !strings.Contains(out, "no changes") {
		t.Fatalf("plain plan: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = w.main("plan", "-t", "staging", "--bundle", exampleBundle, "--refresh")
	if code != 0 || !strings.Contains(out, "max_concurrent_runs: deployed 1, now 7") {
		t.Fatalf("plan --refresh: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut = w.main("deploy", "-t", "staging", "--bundle", exampleBundle, "--refresh"); code != 0 {
		t.Fatalf("deploy --refresh: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := w.em.Jobs("tok")[id]; got.MaxConcurrentRuns != 1 || got.Name != name {
		t.Errorf("job not put back: max_concurrent_runs %d, name %q", got.MaxConcurrentRuns, got.Name)
	}
}

// A deploy stopped by a signal says so in its last line, whatever words the
// client that was interrupted used for the cancelled context.
func TestStoppedDeploySaysWhy(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	if err := srv.Configure(emulator.Config{Latency: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	yml := "bundle:\n  name: demo\ntargets:\n  dev:\n    default: true\n"
	if err := os.WriteFile(filepath.Join(dir, "databricks.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok"}
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(200*time.Millisecond, func() { cancel(errors.New("interrupt signal received")) })
	var out, errb bytes.Buffer
	code := Main(ctx, []string{"deploy", "-t", "dev", "--bundle", dir}, func(k string) string { return env[k] }, &out, &errb)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFailed, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if last := lines[len(lines)-1]; last != "brickci deploy: stopped: interrupt signal received" {
		t.Errorf("last line %q does not say why the deploy stopped\n%s", last, errb.String())
	}
}

// TestDeployResolvesLookups checks that deploy resolves a variable's
// lookup in the workspace, as validate does, instead of deploying the
// unresolved reference: a warehouse the workspace does not know fails the
// deploy before any job is created.
func TestDeployResolvesLookups(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := writeBundle(t, "bundle:\n  name: demo\nvariables:\n  wh:\n    lookup:\n      warehouse: Shared SQL\ntargets:\n  dev:\n    default: true\nresources:\n  jobs:\n    hello:\n      name: hello\n      description: ${var.wh}\n      tasks:\n        - task_key: main\n          notebook_task:\n            notebook_path: ./nb.py\n")
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok"}
	code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if code != exitFailed || !strings.Contains(errOut, "lookup-failed") {
		t.Errorf("deploy: exit %d, want %d with a lookup-failed finding\n%s", code, exitFailed, errOut)
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/api/2.2/jobs/create") {
			t.Errorf("a job was created: %s %s", r.Method, r.Path)
		}
	}
}
