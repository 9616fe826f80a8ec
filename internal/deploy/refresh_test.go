package deploy

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

// TestRefreshFindsAndPutsBackWorkspaceChanges: a job edited in the
// workspace and an endpoint deleted there are invisible to a plain plan,
// reported by Refresh, and put back by Apply with Refresh.
func TestRefreshFindsAndPutsBackWorkspaceChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := endpointBundle(dir, "1")
	b.Jobs = demoBundle(dir).Jobs
	files := func() []localFile { return listFiles(t, dir, b.Workspace.FilePath) }
	first, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	trainID := first.JobIDs["train"]

	// Someone edits the job in the UI and deletes the endpoint.
	if err := w.Jobs.Update(ctx, jobs.UpdateJob{JobId: trainID, NewSettings: &jobs.JobSettings{Tasks: []jobs.Task{
		{TaskKey: "train", NotebookTask: &jobs.NotebookTask{NotebookPath: "/Workspace/Users/someone/scratch"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.ServingEndpoints.Delete(ctx, serving.DeleteServingEndpointRequest{Name: endpointName}); err != nil {
		t.Fatal(err)
	}

	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changed() {
		t.Fatal("a plain plan compares with state only and must not see workspace edits")
	}
	if err := plan.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := plan.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`job train ("train"): 1 setting(s) changed in the workspace`,
		"tasks[train].notebook_task.notebook_path: deployed \"" + testRoot + "/files/notebooks/train\", now \"/Workspace/Users/someone/scratch\"",
		`serving endpoint chat ("` + endpointName + `") was deleted in the workspace`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, text.String())
		}
	}
	if !plan.Changed() {
		t.Error("a plan with drift must count as changed")
	}
	if strings.Contains(text.String(), "orchestrate") && strings.Contains(text.String(), "job orchestrate (\"orchestrate\"):") {
		t.Errorf("an untouched job was reported:\n%s", text.String())
	}

	opts := testOptions()
	opts.Refresh = true
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	train, ok := srv.Jobs(testToken)[trainID]
	if !ok || len(train.Tasks) != 1 || train.Tasks[0].NotebookTask == nil || train.Tasks[0].NotebookTask.NotebookPath != testRoot+"/files/notebooks/train" {
		t.Errorf("job train not put back: %+v", train.Tasks)
	}
	if _, ok := srv.Endpoints(testToken)[endpointName]; !ok {
		t.Error("the deleted endpoint was not created again")
	}
	again, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	if again.Changed() {
		var out bytes.Buffer
		again.WriteText(&out)
		t.Errorf("after deploy --refresh the workspace still differs:\n%s", out.String())
	}
}

func TestDiffPresentIgnoresWorkspaceDefaults(t *testing.T) {
	t.Parallel()
	deployed := map[string]any{"name": "j", "tasks": []any{map[string]any{"task_key": "a", "timeout_seconds": float64(60)}}}
	remote := map[string]any{"name": "j", "format": "MULTI_TASK", "email_notifications": map[string]any{},
		"tasks": []any{map[string]any{"task_key": "a", "timeout_seconds": float64(60), "run_if": "ALL_SUCCESS"}}}
	var fields []FieldChange
	diffPresent("", deployed, remote, &fields)
	if len(fields) != 0 {
		t.Errorf("defaults reported as drift: %+v", fields)
	}
	remote["tasks"] = append(remote["tasks"].([]any), map[string]any{"task_key": "b"})
	diffPresent("", deployed, remote, &fields)
	if len(fields) != 1 || fields[0].Path != "tasks[b]" || fields[0].Old != nil {
		t.Errorf("a task added in the workspace: %+v", fields)
	}
}
