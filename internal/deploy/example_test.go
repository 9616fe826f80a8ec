package deploy

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/google/go-cmp/cmp"
)

// exampleDir is the example project the repository ships.
const exampleDir = "../../examples/rag-chatbot"

// loadExample copies the example bundle into a temporary directory (tests
// never change the example itself) and loads it for target as user.
func loadExample(t testing.TB, target, user string) (string, func() (*bundle.Bundle, []bundle.File)) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rag-chatbot")
	if err := os.CopyFS(dir, os.DirFS(exampleDir)); err != nil {
		t.Fatalf("failed to copy the example bundle: %v", err)
	}
	// The example's wheel as its artifact build would leave it (the builds
	// are cmd/action's and internal/artifacts' concern).
	if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dist", "rag_chatbot-0.1.0-py3-none-any.whl"), []byte("wheel"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := bundle.NewUser(user)
	return dir, func() (*bundle.Bundle, []bundle.File) {
		t.Helper()
		b, findings, err := bundle.Load(bundle.LoadOptions{Dir: dir, Target: target, CurrentUser: &u, ArtifactsBuilt: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range findings {
			if f.Severity == diag.Error {
				t.Errorf("example bundle: %v", f)
			}
		}
		if b == nil {
			t.Fatal("example bundle did not resolve")
		}
		files, err := bundle.Files(b)
		if err != nil {
			t.Fatal(err)
		}
		return b, files
	}
}

// TestDeployExampleBundle deploys examples/rag-chatbot to staging three
// times: first, unchanged, and after one notebook was edited.
func TestDeployExampleBundle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	dir, load := loadExample(t, "staging", "deployer@example.com")
	var progress bytes.Buffer
	opts := testOptions()
	opts.Progress = &progress

	b, files := load()
	first, err := Apply(ctx, w, b, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Uploaded != len(files) || first.Uploaded == 0 {
		t.Errorf("first deploy uploaded %d files, want all %d", first.Uploaded, len(files))
	}
	id, ok := first.JobIDs["model_workflow"]
	if !ok {
		t.Fatalf("no job id for model_workflow: %v", first.JobIDs)
	}
	job, ok := srv.Jobs(testToken)[id]
	if !ok {
		t.Fatalf("job %d does not exist in the workspace", id)
	}
	if job.Name != "staging-rag_chatbot-model-workflow" {
		t.Errorf("job name %q", job.Name)
	}
	filesRoot := "/Workspace/Shared/.bundle/rag_chatbot/staging/files"
	paths := map[string]string{}
	for _, task := range job.Tasks {
		if task.NotebookTask == nil {
			t.Errorf("task %s is not a notebook task", task.TaskKey)
			continue
		}
		paths[task.TaskKey] = task.NotebookTask.NotebookPath
	}
	wantPaths := map[string]string{
		"pdf_chunks_embeddings": filesRoot + "/notebooks/01_pdf_chunks_embeddings",
		"chatbot_chain":         filesRoot + "/notebooks/02_chatbot_chain",
		"offline_evaluation":    filesRoot + "/notebooks/03_offline_evaluation",
		"deploy_model_endpoint": filesRoot + "/notebooks/04_deploy_model_as_endpoint",
	}
	if diff := cmp.Diff(wantPaths, paths); diff != "" {
		t.Errorf("tasks and notebook paths (-want +got):\n%s", diff)
	}
	remote := srv.Files(testToken)
	for task, p := range wantPaths {
		if _, ok := remote[strings.TrimPrefix(p, "/Workspace")]; !ok {
			t.Errorf("task %s runs %s, which was not uploaded", task, p)
		}
	}
	if job.Deployment == nil || job.Deployment.Kind != jobs.JobDeploymentKindBundle ||
		job.Deployment.MetadataFilePath != "/Workspace/Shared/.bundle/rag_chatbot/staging/state/metadata.json" {
		t.Errorf("job deployment stamp %+v", job.Deployment)
	}
	if job.EditMode != jobs.JobEditModeUiLocked {
		t.Errorf("job edit mode %q, want UI_LOCKED", job.EditMode)
	}
	if job.RunAs == nil || job.RunAs.ServicePrincipalName != "6f1c2a4e-3b7d-4e8a-9c0f-1a2b3c4d5e6f" {
		t.Errorf("job runs as %+v, want the staging service principal", job.RunAs)
	}
	endpoint, ok := srv.Endpoints(testToken)["staging-rag-chatbot"]
	if !ok {
		t.Fatalf("serving endpoint staging-rag-chatbot does not exist; have %v", slices.Sorted(maps.Keys(srv.Endpoints(testToken))))
	}
	if got := endpoint.Config.ServedEntities[0].EntityName; got != "staging.rag.rag_chatbot_model" {
		t.Errorf("endpoint serves %q", got)
	}
	if first.Endpoints["rag_chatbot_endpoint"] != "staging-rag-chatbot" {
		t.Errorf("result endpoints %v", first.Endpoints)
	}

	// Unchanged.
	before := len(srv.Requests())
	progress.Reset()
	b, files = load()
	second, err := Apply(ctx, w, b, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	reqs := requestsSince(srv, before)
	if len(reqs) > 8 || second.Uploaded != 0 || second.Changed {
		t.Errorf("unchanged deploy: %d requests (want at most 8), %d uploads, changed %v: %v", len(reqs), second.Uploaded, second.Changed, reqs)
	}
	if got, want := progress.String(), "no changes: bundle rag_chatbot is up to date on target staging\n"; got != want {
		t.Errorf("unchanged deploy progress %q, want %q", got, want)
	}

	// One notebook edited.
	nb := filepath.Join(dir, "notebooks", "02_chatbot_chain.py")
	data, err := os.ReadFile(nb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nb, append(data, []byte("\n# COMMAND ----------\n\nprint('edited')\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	before = len(srv.Requests())
	b, files = load()
	third, err := Apply(ctx, w, b, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if third.Uploaded != 1 || !third.Changed {
		t.Errorf("edit deploy uploaded %d files (changed %v), want 1", third.Uploaded, third.Changed)
	}
	var writes []string
	for _, r := range reqs {
		if r.Method != "GET" {
			writes = append(writes, r.Method+" "+r.Path)
		}
	}
	sort.Strings(writes)
	if n := countMatching(reqs, "", "/jobs/") + countMatching(reqs, "", "serving-endpoints"); n != 0 {
		t.Errorf("an edited notebook touched jobs or endpoints: %v", writes)
	}
	if got := string(srv.Files(testToken)["/Shared/.bundle/rag_chatbot/staging/files/notebooks/02_chatbot_chain"]); !strings.Contains(got, "print('edited')") {
		t.Errorf("edited notebook not uploaded: %q", got)
	}
	if diff := cmp.Diff(first.JobIDs, third.JobIDs); diff != "" {
		t.Errorf("job ids changed (-first +third):\n%s", diff)
	}
}
