package emulator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/ml"

	"github.com/brickci/brickci/internal/emulator"
)

func TestModelRegistry(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	created, err := w.ModelRegistry.CreateModel(ctx, ml.CreateModelRequest{Name: "churn", Description: "d1", Tags: []ml.ModelTag{{Key: "team", Value: "ml"}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.RegisteredModel.Name != "churn" || created.RegisteredModel.CreationTimestamp == 0 {
		t.Errorf("created = %+v", created.RegisteredModel)
	}
	_, err = w.ModelRegistry.CreateModel(ctx, ml.CreateModelRequest{Name: "churn"})
	if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
		t.Errorf("create twice: %v", err)
	}
	got, err := w.ModelRegistry.GetModel(ctx, ml.GetModelRequest{Name: "churn"})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	m := got.RegisteredModelDatabricks
	if m.Id == "" || m.Name != "churn" || m.Description != "d1" || m.UserId != emulator.DefaultUserName || len(m.Tags) != 1 {
		t.Errorf("get = %+v", m)
	}
	if _, err := w.ModelRegistry.UpdateModel(ctx, ml.UpdateModelRequest{Name: "churn", Description: "d2"}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := w.ModelRegistry.SetModelTag(ctx, ml.SetModelTagRequest{Name: "churn", Key: "stage", Value: "dev"}); err != nil {
		t.Fatalf("set tag: %v", err)
	}
	if err := w.ModelRegistry.DeleteModelTag(ctx, ml.DeleteModelTagRequest{Name: "churn", Key: "team"}); err != nil {
		t.Fatalf("delete tag: %v", err)
	}
	renamed, err := w.ModelRegistry.RenameModel(ctx, ml.RenameModelRequest{Name: "churn", NewName: "churn-v2"})
	if err != nil || renamed.RegisteredModel.Name != "churn-v2" {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}
	_, err = w.ModelRegistry.GetModel(ctx, ml.GetModelRequest{Name: "churn"})
	wantAPIError(t, "get old name", err, 404, "RESOURCE_DOES_NOT_EXIST")
	want := ml.ModelDatabricks{Id: m.Id, Name: "churn-v2", Description: "d2", UserId: emulator.DefaultUserName,
		PermissionLevel: ml.PermissionLevelCanManage, Tags: []ml.ModelTag{{Key: "stage", Value: "dev"}}}
	if got := srv.Models("t")["churn-v2"]; got.Id != want.Id || got.Description != want.Description || len(got.Tags) != 1 || got.Tags[0].Key != "stage" {
		t.Errorf("accessor = %+v, want %+v", got, want)
	}
	list, err := w.ModelRegistry.ListModelsAll(ctx, ml.ListModelsRequest{})
	if err != nil || len(list) != 1 {
		t.Errorf("list = %+v, %v", list, err)
	}

	perms, err := w.ModelRegistry.SetPermissions(ctx, ml.RegisteredModelPermissionsRequest{RegisteredModelId: m.Id, AccessControlList: []ml.RegisteredModelAccessControlRequest{
		{GroupName: "reviewers", PermissionLevel: ml.RegisteredModelPermissionLevelCanManageStagingVersions},
	}})
	if err != nil || perms.ObjectId != "/registered-models/"+m.Id || len(perms.AccessControlList) != 2 {
		t.Errorf("set permissions = %+v, %v", perms, err)
	}
	_, err = w.ModelRegistry.UpdatePermissions(ctx, ml.RegisteredModelPermissionsRequest{RegisteredModelId: m.Id, AccessControlList: []ml.RegisteredModelAccessControlRequest{
		{GroupName: "x", PermissionLevel: "CAN_QUERY"},
	}})
	wantAPIError(t, "invalid level", err, 400, "INVALID_PARAMETER_VALUE")

	if err := w.ModelRegistry.DeleteModel(ctx, ml.DeleteModelRequest{Name: "churn-v2"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := w.ModelRegistry.GetPermissionsByRegisteredModelId(ctx, m.Id); !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("permissions of deleted: %v", err)
	}
	if err := w.ModelRegistry.DeleteModel(ctx, ml.DeleteModelRequest{Name: "churn-v2"}); !errors.Is(err, apierr.ErrResourceDoesNotExist) {
		t.Errorf("delete twice: %v", err)
	}
	if len(srv.Models("t")) != 0 {
		t.Errorf("models left: %v", srv.Models("t"))
	}
}
