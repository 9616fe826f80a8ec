package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
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
	srv := emulator.New()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	yml := "bundle:\n  name: demo\ntargets:\n  dev:\n    default: true\nresources:\n  jobs:\n    hello:\n      name: hello\n      tasks:\n        - task_key: main\n          notebook_task:\n            notebook_path: ./nb.py\n"
	if err := os.WriteFile(filepath.Join(dir, "databricks.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nb.py"), []byte("# Databricks notebook source\nprint(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABRICKS_HOST": ts.URL, "DATABRICKS_TOKEN": "tok"}
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
		{[]string{"deploy", "-t", "dev", "--bundle", dir}, 0, "job hello: " + ts.URL + "/jobs/"},
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

// Resources brickci does not deploy are named in a warning at their
// position, never skipped silently.
func TestDeployWarnsAboutUnsupportedResources(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	yml := "bundle:\n  name: demo\ntargets:\n  dev:\n    default: true\nresources:\n  schemas:\n    raw:\n      name: raw\n      catalog_name: main\n  jobs:\n    hello:\n      name: hello\n      tasks:\n        - task_key: main\n          notebook_task:\n            notebook_path: ./nb.py\n"
	os.WriteFile(filepath.Join(dir, "databricks.yml"), []byte(yml), 0o644)
	os.WriteFile(filepath.Join(dir, "nb.py"), []byte("# Databricks notebook source\nprint(1)\n"), 0o644)
	env := map[string]string{"DATABRICKS_HOST": ts.URL, "DATABRICKS_TOKEN": "tok"}
	code, _, errOut := runMain(env, "deploy", "-t", "dev", "--bundle", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	want := filepath.Join(dir, "databricks.yml") + `:8:5: warning: schemas "raw" is not deployed: brickci deploys jobs and model serving endpoints; deploy it with the Databricks CLI [unsupported-resource]`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks\n%s\n%s", want, errOut)
	}
	if len(srv.Jobs("tok")) != 1 {
		t.Error("the job was not deployed")
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
	srv := emulator.New()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	if err := srv.Configure(emulator.Config{Latency: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	yml := "bundle:\n  name: demo\ntargets:\n  dev:\n    default: true\n"
	if err := os.WriteFile(filepath.Join(dir, "databricks.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABRICKS_HOST": ts.URL, "DATABRICKS_TOKEN": "tok"}
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
