package deploy

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/demo"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	testToken = "t"
	testUser  = "me@example.com"
	testRoot  = "/Workspace/Users/me@example.com/.bundle/demo/staging"
)

var fixedNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// newServer serves a fresh emulator and returns an SDK client for it; wrap,
// when set, wraps the transport. The SDK's default limit of 15 requests per
// second is lifted so that tests and benchmarks measure the deploy engine,
// not the client's rate limiter.
func newServer(t testing.TB, wrap func(http.RoundTripper) http.RoundTripper) (*emulator.Server, *databricks.WorkspaceClient) {
	t.Helper()
	srv := emulator.New()
	if err := srv.Seed("", demo.ExampleSeed); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	cfg := &databricks.Config{Host: ts.URL, Token: testToken, AuthType: "pat", RateLimitPerSecond: 10000}
	if wrap != nil {
		cfg.HTTPTransport = wrap(http.DefaultTransport)
	}
	w, err := databricks.NewWorkspaceClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, w
}

// writeTree writes files (relative path → content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listFiles is the test's own file lister: every regular file under dir,
// notebooks recognised by their header line and stored without extension.
func listFiles(t testing.TB, dir, filePath string) []localFile {
	t.Helper()
	var out []localFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		nb := bytes.HasPrefix(data, []byte("# Databricks notebook source"))
		remote := path.Join(filePath, rel)
		f := localFile{Rel: rel, Abs: p, Notebook: nb}
		if nb {
			remote = strings.TrimSuffix(remote, path.Ext(rel))
			f.Lang = notebookLanguage(rel)
		}
		f.Remote = remote
		f.Hash, err = hashFile(p)
		out = append(out, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func demoBundle(dir string) *bundle.Bundle {
	return &bundle.Bundle{
		Dir: dir, Name: "demo", Target: "staging",
		Workspace:   bundle.Workspace{RootPath: testRoot, FilePath: testRoot + "/files", StatePath: testRoot + "/state"},
		CurrentUser: bundle.User{UserName: testUser, ShortName: "me"},
		Jobs: map[string]*bundle.Job{
			"train": {Key: "train", Config: map[string]any{
				"name": "train",
				"tasks": []any{map[string]any{
					"task_key":      "train",
					"notebook_task": map[string]any{"notebook_path": testRoot + "/files/notebooks/train"},
				}},
			}, Permissions: []bundle.Permission{{Level: "CAN_VIEW", GroupName: "users"}}},
			"orchestrate": {Key: "orchestrate", Config: map[string]any{
				"name": "orchestrate",
				"tasks": []any{map[string]any{
					"task_key":     "run_train",
					"run_job_task": map[string]any{"job_id": "${resources.jobs.train.id}"},
				}},
			}},
		},
	}
}

// demoCheckout writes demoFiles into a new directory and returns the demo
// bundle rooted there, the directory, and a function listing its files as
// a deploy uploads them (call it again after changing a file).
func demoCheckout(t testing.TB) (*bundle.Bundle, string, func() []localFile) {
	t.Helper()
	return checkoutOf(t, demoBundle)
}

// checkoutOf is demoCheckout with the bundle newBundle makes of the
// directory (dataBundle, mlopsBundle, ...).
func checkoutOf(t testing.TB, newBundle func(dir string) *bundle.Bundle) (*bundle.Bundle, string, func() []localFile) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := newBundle(dir)
	return b, dir, func() []localFile { return listFiles(t, dir, b.Workspace.FilePath) }
}

var demoFiles = map[string]string{
	"databricks.yml":          "bundle:\n  name: demo\n",
	"notebooks/train.py":      "# Databricks notebook source\nprint('train')\n",
	"notebooks/eval.py":       "# Databricks notebook source\nprint('eval')\n",
	"src/rag/util.py":         "def f():\n    return 1\n",
	"src/rag/data/chunks.txt": "a\nb\n",
}

func testOptions() Options {
	n := 0
	var mu sync.Mutex
	return Options{Now: func() time.Time { return fixedNow }, NewID: func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return "00000000-0000-0000-0000-" + strings.Repeat("0", 11) + string(rune('0'+n%10))
	}, LockPoll: 5 * time.Millisecond}
}

// requestsSince returns the emulator's requests after the first n.
func requestsSince(srv *emulator.Server, n int) []emulator.Request {
	return srv.Requests()[n:]
}

func countPath(reqs []emulator.Request, suffix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

// normaliseIDs replaces the given job ids in s by <id:key>.
func normaliseIDs(s string, ids map[string]int64) string {
	keys := make([]string, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		id := strconv.FormatInt(ids[k], 10)
		s = regexp.MustCompile(`\b`+id+`\b`).ReplaceAllString(s, "<id:"+k+">")
	}
	return s
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("missing golden file (run with -update): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func renderAll(t *testing.T, p *PlanResult, ids map[string]int64) (text, md, js string) {
	t.Helper()
	var a, b, c bytes.Buffer
	if err := p.WriteText(&a); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteJSON(&c); err != nil {
		t.Fatal(err)
	}
	return normaliseIDs(a.String(), ids), normaliseIDs(b.String(), ids), normaliseIDs(c.String(), ids)
}

// TestDeployLifecycle deploys a bundle, redeploys it unchanged, edits one
// notebook and one job, then removes a job, checking requests, uploads,
// remote state and the plan of every step.
func TestDeployLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, dir, files := demoCheckout(t)

	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	first, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	ids := first.JobIDs
	text, _, _ := renderAll(t, plan, ids)
	golden(t, "plan_first.txt", text)
	if first.Uploaded != 5 || !first.Changed {
		t.Errorf("first deploy: uploaded %d, changed %v; want 5, true", first.Uploaded, first.Changed)
	}
	remoteJobs := srv.Jobs(testToken)
	if len(remoteJobs) != 2 {
		t.Fatalf("got %d jobs, want 2", len(remoteJobs))
	}
	orch := remoteJobs[ids["orchestrate"]]
	if got := orch.Tasks[0].RunJobTask.JobId; got != ids["train"] {
		t.Errorf("orchestrate runs job %d, want train's id %d", got, ids["train"])
	}
	if orch.Deployment == nil || orch.Deployment.MetadataFilePath != testRoot+"/state/metadata.json" || orch.EditMode != "UI_LOCKED" {
		t.Errorf("job not stamped as a bundle deployment: %+v %q", orch.Deployment, orch.EditMode)
	}
	if got := first.JobURLs["train"]; !strings.HasSuffix(got, "/jobs/"+strconv.FormatInt(ids["train"], 10)) {
		t.Errorf("job url %q", got)
	}
	remoteFiles := srv.Files(testToken)
	if _, ok := remoteFiles["/Users/me@example.com/.bundle/demo/staging/files/notebooks/train"]; !ok {
		t.Errorf("notebook not uploaded without its extension; files: %v", slices.Sorted(maps.Keys(remoteFiles)))
	}
	if _, ok := remoteFiles["/Users/me@example.com/.bundle/demo/staging/state/deploy.lock"]; ok {
		t.Error("lock not released")
	}

	// Unchanged: only lock and state reads.
	before := len(srv.Requests())
	plan, err = planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(requestsSince(srv, before)); got != 2 {
		t.Errorf("no-change plan made %d requests, want 2 (one export per state file)", got)
	}
	text, _, _ = renderAll(t, plan, ids)
	golden(t, "plan_unchanged.txt", text)
	before = len(srv.Requests())
	second, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	reqs := requestsSince(srv, before)
	// The two state files and the lock, read at once; no lock is taken.
	if diff := cmp.Diff([]string{"GET /api/2.0/workspace/export", "GET /api/2.0/workspace/export", "GET /api/2.0/workspace/export"}, requestLines(reqs)); diff != "" {
		t.Errorf("no-change deploy requests (-want +got):\n%s", diff)
	}
	if second.Uploaded != 0 || second.Changed {
		t.Errorf("no-change deploy: uploaded %d, changed %v", second.Uploaded, second.Changed)
	}
	if diff := cmp.Diff(ids, second.JobIDs); diff != "" {
		t.Errorf("job ids changed (-first +second):\n%s", diff)
	}

	// Edit one notebook and one job setting.
	writeTree(t, dir, map[string]string{"notebooks/train.py": "# Databricks notebook source\nprint('train v2')\n"})
	b.Jobs["train"].Config["max_concurrent_runs"] = 2
	plan, err = planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	text, md, js := renderAll(t, plan, ids)
	golden(t, "plan_edit.txt", text)
	golden(t, "plan_edit.md", md)
	golden(t, "plan_edit.json", js)
	third, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if third.Uploaded != 1 {
		t.Errorf("edit deploy uploaded %d files, want 1", third.Uploaded)
	}
	if got := string(srv.Files(testToken)["/Users/me@example.com/.bundle/demo/staging/files/notebooks/train"]); !strings.Contains(got, "train v2") {
		t.Errorf("notebook not updated: %q", got)
	}
	if got := srv.Jobs(testToken)[ids["train"]].MaxConcurrentRuns; got != 2 {
		t.Errorf("job not reset: max_concurrent_runs %d", got)
	}

	// Remove a job and a file.
	delete(b.Jobs, "orchestrate")
	if err := os.Remove(filepath.Join(dir, "notebooks", "eval.py")); err != nil {
		t.Fatal(err)
	}
	plan, err = planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	text, _, _ = renderAll(t, plan, ids)
	golden(t, "plan_remove.txt", text)
	fourth, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Jobs(testToken)[ids["orchestrate"]]; ok || len(srv.Jobs(testToken)) != 1 {
		t.Errorf("removed job still exists: %v", srv.Jobs(testToken))
	}
	if fourth.Deleted != 1 {
		t.Errorf("deleted %d files, want 1", fourth.Deleted)
	}
	if _, ok := srv.Files(testToken)["/Users/me@example.com/.bundle/demo/staging/files/notebooks/eval"]; ok {
		t.Error("removed notebook still in the workspace")
	}
}
