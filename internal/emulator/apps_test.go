package emulator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/apps"

	"github.com/brickci/brickci/internal/emulator"
)

// TestAppLifecycle creates apps with and without compute, updates one and
// deletes it with the SDK's client, the states following the clock.
func TestAppLifecycle(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now, Config: emulator.Config{TaskDuration: time.Minute}})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()

	_, err := w.Apps.Create(ctx, apps.CreateAppRequest{App: apps.App{Name: "Bad_Name"}})
	wantAPIError(t, "invalid name", err, 400, "INVALID_PARAMETER_VALUE")

	wait, err := w.Apps.Create(ctx, apps.CreateAppRequest{App: apps.App{Name: "chat", Description: "v1"}, NoCompute: true})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	a := wait.Response
	if a.Name != "chat" || a.Id == "" || a.Creator != emulator.DefaultUserName || a.ComputeSize != apps.ComputeSizeMedium || a.Url == "" || a.ServicePrincipalClientId == "" ||
		a.ComputeStatus == nil || a.ComputeStatus.State != apps.ComputeStateStopped || a.AppStatus == nil || a.AppStatus.State != apps.ApplicationStateUnavailable {
		t.Errorf("created without compute = %+v", a)
	}
	_, err = w.Apps.Create(ctx, apps.CreateAppRequest{App: apps.App{Name: "chat"}})
	wantAPIError(t, "the same name twice", err, 409, "RESOURCE_ALREADY_EXISTS")
	if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
		t.Errorf("a taken name is not ErrResourceAlreadyExists: %v", err)
	}

	if _, err := w.Apps.Create(ctx, apps.CreateAppRequest{App: apps.App{Name: "web"}}); err != nil {
		t.Fatalf("create with compute: %v", err)
	}
	if got, _ := w.Apps.GetByName(ctx, "web"); got.ComputeStatus.State != apps.ComputeStateStarting {
		t.Errorf("compute right after create = %+v, want STARTING", got.ComputeStatus)
	}
	clock.now = clock.now.Add(time.Minute)
	if got, _ := w.Apps.GetByName(ctx, "web"); got.ComputeStatus.State != apps.ComputeStateActive {
		t.Errorf("compute a minute after create = %+v, want ACTIVE", got.ComputeStatus)
	}

	// Update: the masked fields change; the update succeeds after a while.
	_, err = w.Apps.CreateUpdate(ctx, apps.AsyncUpdateAppRequest{AppName: "chat", App: &apps.App{Name: "chat"}, UpdateMask: "name"})
	wantAPIError(t, "a mask naming name", err, 400, "INVALID_PARAMETER_VALUE")
	uw, err := w.Apps.CreateUpdate(ctx, apps.AsyncUpdateAppRequest{AppName: "chat", App: &apps.App{Name: "chat", Description: "v2", UserApiScopes: []string{"sql"}},
		UpdateMask: "description,user_api_scopes,compute_size"})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if uw.Response.Status == nil || uw.Response.Status.State != apps.AppUpdateUpdateStatusUpdateStateInProgress {
		t.Errorf("update = %+v, want IN_PROGRESS", uw.Response)
	}
	_, err = w.Apps.CreateUpdate(ctx, apps.AsyncUpdateAppRequest{AppName: "chat", App: &apps.App{Name: "chat"}, UpdateMask: "description"})
	wantAPIError(t, "an update during an update", err, 409, "RESOURCE_CONFLICT")
	clock.now = clock.now.Add(time.Minute)
	u, err := w.Apps.GetUpdate(ctx, apps.GetAppUpdateRequest{AppName: "chat"})
	if err != nil || u.Status.State != apps.AppUpdateUpdateStatusUpdateStateSucceeded {
		t.Errorf("update status = %+v, %v; want SUCCEEDED", u, err)
	}
	got := srv.Apps("t")["chat"]
	if got.Description != "v2" || len(got.UserApiScopes) != 1 || got.ComputeSize != apps.ComputeSizeMedium {
		t.Errorf("updated app = %+v", got)
	}

	// Permissions, then delete: DELETING with the name taken, then gone.
	if _, err := w.Apps.SetPermissions(ctx, apps.AppPermissionsRequest{AppName: "chat", AccessControlList: []apps.AppAccessControlRequest{
		{GroupName: "users", PermissionLevel: apps.AppPermissionLevelCanUse}}}); err != nil {
		t.Errorf("set permissions: %v", err)
	}
	if _, err := w.Apps.DeleteByName(ctx, "chat"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got, err := w.Apps.GetByName(ctx, "chat"); err != nil || got.ComputeStatus.State != apps.ComputeStateDeleting {
		t.Errorf("right after delete = %+v, %v; want DELETING", got, err)
	}
	_, err = w.Apps.Create(ctx, apps.CreateAppRequest{App: apps.App{Name: "chat"}, NoCompute: true})
	wantAPIError(t, "create while deleting", err, 409, "RESOURCE_ALREADY_EXISTS")
	clock.now = clock.now.Add(time.Minute)
	_, err = w.Apps.GetByName(ctx, "chat")
	wantAPIError(t, "get a deleted app", err, 404, "RESOURCE_DOES_NOT_EXIST")
	_, err = w.Apps.DeleteByName(ctx, "chat")
	wantAPIError(t, "delete twice", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if _, ok := srv.Permissions("t")["apps/chat"]; ok {
		t.Error("the permissions of the deleted app are left")
	}
	list, err := w.Apps.ListAll(ctx, apps.ListAppsRequest{})
	if err != nil || len(list) != 1 || list[0].Name != "web" {
		t.Errorf("list = %+v, %v", list, err)
	}
}

// TestAppStartDeployStop starts an app created without compute, deploys
// its code and stops it, the states following the clock.
func TestAppStartDeployStop(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now, Config: emulator.Config{TaskDuration: time.Minute}})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	code := "/Workspace/Users/" + emulator.DefaultUserName + "/chat"
	if err := w.Workspace.MkdirsByPath(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Apps.Create(ctx, apps.CreateAppRequest{App: apps.App{Name: "chat"}, NoCompute: true}); err != nil {
		t.Fatal(err)
	}
	_, err := w.Apps.Deploy(ctx, apps.CreateAppDeploymentRequest{AppName: "chat", AppDeployment: apps.AppDeployment{SourceCodePath: code}})
	wantAPIError(t, "deploy with the compute stopped", err, 400, "INVALID_PARAMETER_VALUE")

	if _, err := w.Apps.Start(ctx, apps.StartAppRequest{Name: "chat"}); err != nil {
		t.Fatalf("start: %v", err)
	}
	if got := srv.Apps("t")["chat"]; got.ComputeStatus.State != apps.ComputeStateStarting {
		t.Errorf("right after start: %+v", got.ComputeStatus)
	}
	clock.now = clock.now.Add(time.Minute)
	_, err = w.Apps.Deploy(ctx, apps.CreateAppDeploymentRequest{AppName: "chat", AppDeployment: apps.AppDeployment{SourceCodePath: code + "/missing"}})
	wantAPIError(t, "deploy code that is not there", err, 404, "RESOURCE_DOES_NOT_EXIST")
	wait, err := w.Apps.Deploy(ctx, apps.CreateAppDeploymentRequest{AppName: "chat", AppDeployment: apps.AppDeployment{SourceCodePath: code}})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d := wait.Response
	if d.DeploymentId == "" || d.Status == nil || d.Status.State != apps.AppDeploymentStateInProgress || d.Mode != apps.AppDeploymentModeSnapshot {
		t.Errorf("deployment = %+v", d)
	}
	if got := srv.Apps("t")["chat"]; got.AppStatus.State != apps.ApplicationStateDeploying || got.PendingDeployment == nil {
		t.Errorf("app while deploying = %+v", got)
	}
	_, err = w.Apps.Deploy(ctx, apps.CreateAppDeploymentRequest{AppName: "chat", AppDeployment: apps.AppDeployment{SourceCodePath: code}})
	wantAPIError(t, "a second deployment while one runs", err, 409, "RESOURCE_CONFLICT")
	clock.now = clock.now.Add(time.Minute)
	got, err := w.Apps.GetDeployment(ctx, apps.GetAppDeploymentRequest{AppName: "chat", DeploymentId: d.DeploymentId})
	if err != nil || got.Status.State != apps.AppDeploymentStateSucceeded {
		t.Errorf("deployment after a minute = %+v, %v", got, err)
	}
	app := srv.Apps("t")["chat"]
	if app.AppStatus.State != apps.ApplicationStateRunning || app.ActiveDeployment == nil || app.ActiveDeployment.DeploymentId != d.DeploymentId ||
		app.PendingDeployment != nil || app.DefaultSourceCodePath != code {
		t.Errorf("deployed app = %+v", app)
	}

	if _, err := w.Apps.Stop(ctx, apps.StopAppRequest{Name: "chat"}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	clock.now = clock.now.Add(time.Minute)
	if got := srv.Apps("t")["chat"]; got.ComputeStatus.State != apps.ComputeStateStopped || got.AppStatus.State != apps.ApplicationStateUnavailable {
		t.Errorf("stopped app = %+v %+v", got.ComputeStatus, got.AppStatus)
	}
	_, err = w.Apps.GetDeployment(ctx, apps.GetAppDeploymentRequest{AppName: "chat", DeploymentId: "nope"})
	wantAPIError(t, "unknown deployment", err, 404, "RESOURCE_DOES_NOT_EXIST")
}
