package emulator_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/ml"
	"github.com/databricks/databricks-sdk-go/service/workspace"

	"github.com/brickci/brickci/internal/emulator"
)

func tagValue(tags []ml.ExperimentTag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

func TestExperimentLifecycle(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	const dir = "/Users/user@example.com/exp"
	const name = dir + "/churn"
	_, err := w.Experiments.CreateExperiment(ctx, ml.CreateExperiment{Name: name})
	wantAPIError(t, "create in missing folder", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if err := w.Workspace.MkdirsByPath(ctx, dir); err != nil {
		t.Fatalf("mkdirs: %v", err)
	}
	created, err := w.Experiments.CreateExperiment(ctx, ml.CreateExperiment{Name: "/Workspace" + name, Tags: []ml.ExperimentTag{{Key: "team", Value: "ml"}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := w.Experiments.GetExperiment(ctx, ml.GetExperimentRequest{ExperimentId: created.ExperimentId})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	e := got.Experiment
	if e.Name != name || e.LifecycleStage != "active" || e.ArtifactLocation == "" || e.CreationTime == 0 ||
		tagValue(e.Tags, "team") != "ml" || tagValue(e.Tags, "mlflow.experiment.sourceName") != name || tagValue(e.Tags, "mlflow.ownerEmail") != emulator.DefaultUserName {
		t.Errorf("experiment = %+v", e)
	}
	st, err := w.Workspace.GetStatusByPath(ctx, name)
	if err != nil || st.ObjectType != "MLFLOW_EXPERIMENT" || strconv.FormatInt(st.ObjectId, 10) != created.ExperimentId {
		t.Errorf("get-status = %+v, %v", st, err)
	}
	_, err = w.Experiments.CreateExperiment(ctx, ml.CreateExperiment{Name: name})
	if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
		t.Errorf("create twice: got %v, want RESOURCE_ALREADY_EXISTS", err)
	}

	const renamed = dir + "/churn-v2"
	if err := w.Experiments.UpdateExperiment(ctx, ml.UpdateExperiment{ExperimentId: created.ExperimentId, NewName: renamed}); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if err := w.Experiments.SetExperimentTag(ctx, ml.SetExperimentTag{ExperimentId: created.ExperimentId, Key: "team", Value: "platform"}); err != nil {
		t.Fatalf("set tag: %v", err)
	}
	byName, err := w.Experiments.GetByName(ctx, ml.GetByNameRequest{ExperimentName: renamed})
	if err != nil || byName.Experiment.ExperimentId != created.ExperimentId || tagValue(byName.Experiment.Tags, "team") != "platform" ||
		tagValue(byName.Experiment.Tags, "mlflow.experiment.sourceName") != renamed {
		t.Errorf("get by name = %+v, %v", byName, err)
	}
	if _, err := w.Workspace.GetStatusByPath(ctx, name); !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("old path after rename: %v", err)
	}
	_, err = w.Experiments.GetByName(ctx, ml.GetByNameRequest{ExperimentName: name})
	wantAPIError(t, "get by old name", err, 404, "RESOURCE_DOES_NOT_EXIST")

	if err := w.Experiments.DeleteExperiment(ctx, ml.DeleteExperiment{ExperimentId: created.ExperimentId}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	got, err = w.Experiments.GetExperiment(ctx, ml.GetExperimentRequest{ExperimentId: created.ExperimentId})
	if err != nil || got.Experiment.LifecycleStage != "deleted" {
		t.Errorf("get deleted = %+v, %v", got, err)
	}
	if _, err := w.Workspace.GetStatusByPath(ctx, renamed); !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("get-status of deleted experiment: %v", err)
	}
	// The name of a deleted experiment stays taken; a deploy restores it.
	_, err = w.Experiments.CreateExperiment(ctx, ml.CreateExperiment{Name: renamed})
	if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
		t.Errorf("create over deleted: got %v, want RESOURCE_ALREADY_EXISTS", err)
	}
	err = w.Experiments.UpdateExperiment(ctx, ml.UpdateExperiment{ExperimentId: created.ExperimentId, NewName: name})
	wantAPIError(t, "rename deleted", err, 400, "INVALID_PARAMETER_VALUE")
	active, err := w.Experiments.SearchExperimentsAll(ctx, ml.SearchExperiments{Filter: "name = '" + renamed + "'"})
	if err != nil || len(active) != 0 {
		t.Errorf("search active = %+v, %v", active, err)
	}
	all, err := w.Experiments.SearchExperimentsAll(ctx, ml.SearchExperiments{Filter: "name = '" + renamed + "'", ViewType: ml.ViewTypeAll})
	if err != nil || len(all) != 1 {
		t.Errorf("search all = %+v, %v", all, err)
	}
	if err := w.Experiments.RestoreExperiment(ctx, ml.RestoreExperiment{ExperimentId: created.ExperimentId}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if st, err := w.Workspace.GetStatusByPath(ctx, renamed); err != nil || st.ObjectType != "MLFLOW_EXPERIMENT" {
		t.Errorf("get-status after restore = %+v, %v", st, err)
	}
	list, err := w.Experiments.ListExperimentsAll(ctx, ml.ListExperimentsRequest{})
	if err != nil || len(list) != 1 || list[0].LifecycleStage != "active" {
		t.Errorf("list = %+v, %v", list, err)
	}
	if got := srv.Experiments("t")[renamed]; got.ExperimentId != created.ExperimentId || got.LifecycleStage != "active" {
		t.Errorf("accessor = %+v", srv.Experiments("t"))
	}

	// Deleting the folder deletes the experiment in it.
	if err := w.Workspace.Delete(ctx, workspace.Delete{Path: dir, Recursive: true}); err != nil {
		t.Fatalf("delete folder: %v", err)
	}
	if got := srv.Experiments("t")[renamed]; got.LifecycleStage != "deleted" {
		t.Errorf("experiment after folder delete = %+v", got)
	}
	_, err = w.Experiments.GetExperiment(ctx, ml.GetExperimentRequest{ExperimentId: "999999"})
	if !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("get missing: %v", err)
	}
}

func TestExperimentPermissions(t *testing.T) {
	t.Parallel()
	w, _ := newClient(t, emulator.New(), "t")
	ctx := context.Background()
	created, err := w.Experiments.CreateExperiment(ctx, ml.CreateExperiment{Name: "/Shared/exp"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	perms, err := w.Experiments.SetPermissions(ctx, ml.ExperimentPermissionsRequest{ExperimentId: created.ExperimentId, AccessControlList: []ml.ExperimentAccessControlRequest{
		{GroupName: "readers", PermissionLevel: ml.ExperimentPermissionLevelCanRead},
		{UserName: emulator.DefaultUserName, PermissionLevel: ml.ExperimentPermissionLevelCanManage},
	}})
	if err != nil {
		t.Fatalf("set: %v", err)
	}
	if perms.ObjectType != "mlflowExperiment" || perms.ObjectId != "/experiments/"+created.ExperimentId || len(perms.AccessControlList) != 3 {
		t.Errorf("permissions = %+v", perms)
	}
	_, err = w.Experiments.UpdatePermissions(ctx, ml.ExperimentPermissionsRequest{ExperimentId: created.ExperimentId, AccessControlList: []ml.ExperimentAccessControlRequest{
		{GroupName: "runners", PermissionLevel: "CAN_RUN"},
	}})
	wantAPIError(t, "level of another type", err, 400, "INVALID_PARAMETER_VALUE")
	levels, err := w.Experiments.GetPermissionLevelsByExperimentId(ctx, created.ExperimentId)
	if err != nil || len(levels.PermissionLevels) != 3 {
		t.Errorf("levels = %+v, %v", levels, err)
	}
	_, err = w.Experiments.GetPermissionsByExperimentId(ctx, "424242")
	if !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("permissions of missing: %v", err)
	}
}
