package deploy

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/databricks/databricks-sdk-go"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

func idsWorkspace(t *testing.T) *databricks.WorkspaceClient {
	t.Helper()
	srv := httptest.NewServer(emulator.New())
	t.Cleanup(srv.Close)
	w, err := databricks.NewWorkspaceClient(&databricks.Config{Host: srv.URL, Token: "ids", AuthType: "pat", RateLimitPerSecond: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDeployedIDsReadsJobsAndPipelines(t *testing.T) {
	t.Parallel()
	w := idsWorkspace(t)
	ctx := context.Background()
	const state = "/Workspace/Users/someone/.bundle/b/dev/state"
	text := `{"state_version": 1, "serial": 3, "state": {
		"resources.jobs.nightly": {"__id__": "123"},
		"resources.jobs.nightly.permissions": {"__id__": "/jobs/123"},
		"resources.pipelines.etl": {"__id__": "0a1b-2c3d"},
		"resources.pipelines.etl.permissions": {"__id__": "/pipelines/0a1b-2c3d"},
		"resources.schemas.raw": {"__id__": "main.raw"}
	}}`
	if err := w.Workspace.MkdirsByPath(ctx, state); err != nil {
		t.Fatal(err)
	}
	if err := (sdkFS{w}).write(ctx, state+"/"+resourcesFile, []byte(text), "", true); err != nil {
		t.Fatal(err)
	}
	got, err := DeployedIDs(ctx, w, state)
	if err != nil {
		t.Fatal(err)
	}
	want := Deployed{Jobs: map[string]int64{"nightly": 123}, Pipelines: map[string]string{"etl": "0a1b-2c3d"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	jobs, err := DeployedJobs(ctx, w, state)
	if err != nil || len(jobs) != 1 || jobs["nightly"] != 123 {
		t.Errorf("jobs = %v, %v", jobs, err)
	}
}

func TestDeployedIDsOfATargetNeverDeployed(t *testing.T) {
	t.Parallel()
	w := idsWorkspace(t)
	_, err := DeployedIDs(context.Background(), w, "/Workspace/nowhere/state")
	if err == nil || !strings.Contains(err.Error(), `no deployment state in "/Workspace/nowhere/state": deploy the target first`) {
		t.Errorf("err = %v", err)
	}
}
