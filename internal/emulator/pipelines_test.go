package emulator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

func pipelineSpec(name string) pipelines.CreatePipeline {
	return pipelines.CreatePipeline{
		Name: name, Catalog: "main", Schema: "etl", Serverless: true,
		Libraries: []pipelines.PipelineLibrary{
			{Notebook: &pipelines.NotebookLibrary{Path: "/Shared/etl/ingest"}},
			{File: &pipelines.FileLibrary{Path: "/Shared/etl/transform.py"}},
		},
	}
}

func TestPipelineCRUD(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	created, err := w.Pipelines.Create(ctx, pipelineSpec("etl"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err = w.Pipelines.Create(ctx, pipelineSpec("etl"))
	wantAPIError(t, "duplicate name", err, 409, "RESOURCE_CONFLICT")
	if !errors.Is(err, apierr.ErrResourceConflict) {
		t.Errorf("duplicate name is not a conflict: %v", err)
	}
	dup := pipelineSpec("etl")
	dup.AllowDuplicateNames = true
	if _, err := w.Pipelines.Create(ctx, dup); err != nil {
		t.Errorf("duplicate name allowed: %v", err)
	}
	dry := pipelineSpec("dry")
	dry.DryRun = true
	if resp, err := w.Pipelines.Create(ctx, dry); err != nil || resp.PipelineId != "" || resp.EffectiveSettings == nil || resp.EffectiveSettings.Name != "dry" {
		t.Errorf("dry run = %+v, %v", resp, err)
	}
	bad := pipelineSpec("bad")
	bad.Schema = "main.etl"
	_, err = w.Pipelines.Create(ctx, bad)
	wantAPIError(t, "qualified schema", err, 400, "INVALID_PARAMETER_VALUE")

	got, err := w.Pipelines.GetByPipelineId(ctx, created.PipelineId)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Name != "etl" || got.State != pipelines.PipelineStateIdle || got.Spec == nil || got.Spec.Id != created.PipelineId ||
		len(got.Spec.Libraries) != 2 || got.CreatorUserName != emulator.DefaultUserName || got.LastModified == 0 {
		t.Errorf("get = %+v", got)
	}
	// Edit replaces the spec whole: the libraries left out are gone.
	err = w.Pipelines.Update(ctx, pipelines.EditPipeline{PipelineId: created.PipelineId, Name: "etl", Catalog: "main", Schema: "etl2",
		Libraries: []pipelines.PipelineLibrary{{File: &pipelines.FileLibrary{Path: "/Shared/etl/only.py"}}}})
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	want := pipelines.PipelineSpec{Id: created.PipelineId, Name: "etl", Catalog: "main", Schema: "etl2",
		Libraries: []pipelines.PipelineLibrary{{File: &pipelines.FileLibrary{Path: "/Shared/etl/only.py"}}}}
	if diff := cmp.Diff(want, srv.Pipelines("t")[created.PipelineId]); diff != "" {
		t.Errorf("spec after edit (-want +got):\n%s", diff)
	}
	err = w.Pipelines.Update(ctx, pipelines.EditPipeline{PipelineId: created.PipelineId, Name: "etl", ExpectedLastModified: 1})
	wantAPIError(t, "stale edit", err, 409, "RESOURCE_CONFLICT")

	list, err := w.Pipelines.ListPipelinesAll(ctx, pipelines.ListPipelinesRequest{Filter: "name LIKE 'et%'"})
	if err != nil || len(list) != 2 {
		t.Errorf("list = %+v, %v", list, err)
	}
	perms, err := w.Pipelines.SetPermissions(ctx, pipelines.PipelinePermissionsRequest{PipelineId: created.PipelineId, AccessControlList: []pipelines.PipelineAccessControlRequest{
		{GroupName: "ops", PermissionLevel: pipelines.PipelinePermissionLevelCanRun},
	}})
	if err != nil || perms.ObjectId != "/pipelines/"+created.PipelineId || len(perms.AccessControlList) != 3 {
		t.Errorf("set permissions = %+v, %v", perms, err)
	}
	_, err = w.Pipelines.UpdatePermissions(ctx, pipelines.PipelinePermissionsRequest{PipelineId: created.PipelineId, AccessControlList: []pipelines.PipelineAccessControlRequest{
		{GroupName: "ops", PermissionLevel: "CAN_QUERY"},
	}})
	wantAPIError(t, "invalid level", err, 400, "INVALID_PARAMETER_VALUE")

	if err := w.Pipelines.DeleteByPipelineId(ctx, created.PipelineId); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = w.Pipelines.GetByPipelineId(ctx, created.PipelineId)
	if !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("get deleted: %v", err)
	}
}

// pollUpdate returns the states an update passes through while the clock
// moves by step, until it reaches a terminal state.
func pollUpdate(t *testing.T, ctx context.Context, w interface {
	GetUpdateByPipelineIdAndUpdateId(context.Context, string, string) (*pipelines.GetUpdateResponse, error)
}, clock *fakeClock, pipelineID, updateID string, step time.Duration) []pipelines.UpdateInfoState {
	t.Helper()
	var seen []pipelines.UpdateInfoState
	for range 100 {
		u, err := w.GetUpdateByPipelineIdAndUpdateId(ctx, pipelineID, updateID)
		if err != nil {
			t.Fatalf("get update: %v", err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != u.Update.State {
			seen = append(seen, u.Update.State)
		}
		switch u.Update.State {
		case pipelines.UpdateInfoStateCompleted, pipelines.UpdateInfoStateFailed, pipelines.UpdateInfoStateCanceled:
			return seen
		}
		clock.now = clock.now.Add(step)
	}
	t.Fatalf("update %s never ended: %v", updateID, seen)
	return nil
}

func TestPipelineUpdateLifecycle(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now, Config: emulator.Config{TaskDuration: 40 * time.Second}})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	created, err := w.Pipelines.Create(ctx, pipelineSpec("etl"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	start, err := w.Pipelines.StartUpdate(ctx, pipelines.StartUpdate{PipelineId: created.PipelineId, FullRefresh: true})
	if err != nil || start.UpdateId == "" {
		t.Fatalf("start = %+v, %v", start, err)
	}
	_, err = w.Pipelines.StartUpdate(ctx, pipelines.StartUpdate{PipelineId: created.PipelineId})
	wantAPIError(t, "second active update", err, 409, "RESOURCE_CONFLICT")
	if got, _ := w.Pipelines.GetByPipelineId(ctx, created.PipelineId); got.State != pipelines.PipelineStateRunning || len(got.LatestUpdates) != 1 {
		t.Errorf("pipeline while updating = %+v", got)
	}
	states := pollUpdate(t, ctx, w.Pipelines, clock, created.PipelineId, start.UpdateId, 10*time.Second)
	wantStates := []pipelines.UpdateInfoState{pipelines.UpdateInfoStateQueued, pipelines.UpdateInfoStateInitializing,
		pipelines.UpdateInfoStateSettingUpTables, pipelines.UpdateInfoStateRunning, pipelines.UpdateInfoStateCompleted}
	if diff := cmp.Diff(wantStates, states); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	got, err := w.Pipelines.GetByPipelineId(ctx, created.PipelineId)
	if err != nil || got.State != pipelines.PipelineStateIdle || got.LatestUpdates[0].State != pipelines.UpdateStateInfoStateCompleted {
		t.Errorf("pipeline after update = %+v, %v", got, err)
	}
	upd, err := w.Pipelines.GetUpdateByPipelineIdAndUpdateId(ctx, created.PipelineId, start.UpdateId)
	if err != nil || !upd.Update.FullRefresh || upd.Update.Cause != pipelines.UpdateInfoCauseApiCall || upd.Update.Config == nil {
		t.Errorf("update = %+v, %v", upd, err)
	}

	events, err := w.Pipelines.ListPipelineEventsAll(ctx, pipelines.ListPipelineEventsRequest{PipelineId: created.PipelineId, Filter: "event_type = 'flow_progress'"})
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	done := map[string]bool{}
	for _, e := range events {
		if strings.Contains(e.Message, "COMPLETED") {
			done[e.Origin.FlowName] = true
		}
		if e.Origin.UpdateId != start.UpdateId {
			t.Errorf("event of another update: %+v", e)
		}
	}
	if diff := cmp.Diff(map[string]bool{"ingest": true, "transform": true}, done); diff != "" {
		t.Errorf("completed flows (-want +got):\n%s", diff)
	}
	if len(events) != 6 || events[0].Timestamp < events[len(events)-1].Timestamp {
		t.Errorf("want 6 flow events newest first, got %+v", events)
	}

	// The configured outcome of a pipeline, by name, fails its updates.
	if err := srv.Configure(emulator.Config{TaskDuration: 40 * time.Second, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeFailed}}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	failed, err := w.Pipelines.StartUpdate(ctx, pipelines.StartUpdate{PipelineId: created.PipelineId, RefreshSelection: []string{"transform"}})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	states = pollUpdate(t, ctx, w.Pipelines, clock, created.PipelineId, failed.UpdateId, 10*time.Second)
	if states[len(states)-1] != pipelines.UpdateInfoStateFailed {
		t.Errorf("states with outcome FAILED = %v", states)
	}
	errorsOnly, err := w.Pipelines.ListPipelineEventsAll(ctx, pipelines.ListPipelineEventsRequest{PipelineId: created.PipelineId, Filter: "level = 'ERROR' AND update_id = '" + failed.UpdateId + "'"})
	if err != nil || len(errorsOnly) != 2 || errorsOnly[0].Error == nil {
		t.Errorf("error events = %+v, %v", errorsOnly, err)
	}
	if got, _ := w.Pipelines.GetByPipelineId(ctx, created.PipelineId); got.Health != pipelines.GetPipelineResponseHealthUnhealthy {
		t.Errorf("health after a failed update = %q", got.Health)
	}

	// HANG keeps the update running until the pipeline is stopped.
	if err := srv.Configure(emulator.Config{TaskDuration: 40 * time.Second, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeHang}}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	hung, err := w.Pipelines.StartUpdate(ctx, pipelines.StartUpdate{PipelineId: created.PipelineId})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	clock.now = clock.now.Add(time.Hour)
	if u, _ := w.Pipelines.GetUpdateByPipelineIdAndUpdateId(ctx, created.PipelineId, hung.UpdateId); u.Update.State != pipelines.UpdateInfoStateRunning {
		t.Errorf("hung update = %+v", u.Update)
	}
	if _, err := w.Pipelines.Stop(ctx, pipelines.StopRequest{PipelineId: created.PipelineId}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if u, _ := w.Pipelines.GetUpdateByPipelineIdAndUpdateId(ctx, created.PipelineId, hung.UpdateId); u.Update.State != pipelines.UpdateInfoStateCanceled {
		t.Errorf("stopped update = %+v", u.Update)
	}
	list, err := w.Pipelines.ListUpdates(ctx, pipelines.ListUpdatesRequest{PipelineId: created.PipelineId})
	if err != nil || len(list.Updates) != 3 || list.Updates[0].UpdateId != hung.UpdateId {
		t.Errorf("updates = %+v, %v", list, err)
	}
	if got := srv.PipelineUpdates("t")[created.PipelineId]; len(got) != 3 || got[0].State != pipelines.UpdateInfoStateCompleted {
		t.Errorf("accessor = %+v", got)
	}
	_, err = w.Pipelines.GetUpdateByPipelineIdAndUpdateId(ctx, created.PipelineId, "nope")
	wantAPIError(t, "missing update", err, 404, "RESOURCE_DOES_NOT_EXIST")
}
