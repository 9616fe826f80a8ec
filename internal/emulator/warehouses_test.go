package emulator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/sql"

	"github.com/brickci/brickci/internal/emulator"
)

// TestWarehouseLifecycle drives a SQL warehouse through create, edit,
// stop, start and delete with the SDK's clients, the states following the
// emulator's clock.
func TestWarehouseLifecycle(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now, Config: emulator.Config{TaskDuration: time.Minute}})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	state := func() sql.State {
		t.Helper()
		all := srv.Warehouses("t")
		if len(all) != 1 {
			t.Fatalf("%d warehouses, want 1", len(all))
		}
		for _, wh := range all {
			return wh.State
		}
		return ""
	}

	for what, bad := range map[string]sql.CreateWarehouseRequest{
		"no name":            {ClusterSize: "Small"},
		"no size":            {Name: "bi"},
		"unknown size":       {Name: "bi", ClusterSize: "Huge"},
		"short auto stop":    {Name: "bi", ClusterSize: "Small", AutoStopMins: 5},
		"serverless classic": {Name: "bi", ClusterSize: "Small", EnableServerlessCompute: true, WarehouseType: sql.CreateWarehouseRequestWarehouseTypeClassic},
		"min over max":       {Name: "bi", ClusterSize: "Small", MinNumClusters: 3, MaxNumClusters: 2},
	} {
		_, err := w.Warehouses.Create(ctx, bad)
		wantAPIError(t, what, err, 400, "INVALID_PARAMETER_VALUE")
	}

	wait, err := w.Warehouses.Create(ctx, sql.CreateWarehouseRequest{Name: "bi", ClusterSize: "Small", AutoStopMins: 30,
		Tags: &sql.EndpointTags{CustomTags: []sql.EndpointTagPair{{Key: "team", Value: "bi"}}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := wait.Id
	got, err := w.Warehouses.GetById(ctx, id)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.State != sql.StateStarting || got.Name != "bi" || got.AutoStopMins != 30 || got.MinNumClusters != 1 || got.MaxNumClusters != 1 ||
		got.SpotInstancePolicy != sql.SpotInstancePolicyCostOptimized || got.WarehouseType != sql.GetWarehouseResponseWarehouseTypeClassic ||
		got.Channel == nil || got.CreatorName != emulator.DefaultUserName || got.OdbcParams == nil || got.OdbcParams.Path != "/sql/1.0/warehouses/"+id ||
		got.Tags == nil || len(got.Tags.CustomTags) != 1 {
		t.Errorf("new warehouse = %+v", got)
	}
	clock.now = clock.now.Add(time.Minute)
	if got, _ := w.Warehouses.GetById(ctx, id); got.State != sql.StateRunning || got.Health == nil || got.NumClusters != 1 {
		t.Errorf("a minute after create: %+v, want RUNNING and healthy", got)
	}

	// Edit replaces the settings and restarts a running warehouse.
	if _, err := w.Warehouses.Edit(ctx, sql.EditWarehouseRequest{Id: id, Name: "bi2", ClusterSize: "Medium", MaxNumClusters: 3}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	got, _ = w.Warehouses.GetById(ctx, id)
	if got.State != sql.StateStarting || got.Name != "bi2" || got.ClusterSize != "Medium" || got.MaxNumClusters != 3 || got.AutoStopMins != 120 || got.Tags != nil {
		t.Errorf("edited warehouse = %+v; want it restarting with only the new settings", got)
	}
	_, err = w.Warehouses.Edit(ctx, sql.EditWarehouseRequest{Id: id, Name: "bi2", ClusterSize: "Tiny"})
	wantAPIError(t, "edit to an unknown size", err, 400, "INVALID_PARAMETER_VALUE")
	clock.now = clock.now.Add(time.Minute)

	// Stop and start.
	if _, err := w.Warehouses.Stop(ctx, sql.StopRequest{Id: id}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if st := state(); st != sql.StateStopping {
		t.Errorf("right after stop: %s, want STOPPING", st)
	}
	clock.now = clock.now.Add(time.Minute)
	if st := state(); st != sql.StateStopped {
		t.Errorf("a minute after stop: %s, want STOPPED", st)
	}
	if _, err := w.Warehouses.Edit(ctx, sql.EditWarehouseRequest{Id: id, Name: "bi3", ClusterSize: "Small"}); err != nil {
		t.Fatalf("edit a stopped warehouse: %v", err)
	}
	if st := state(); st != sql.StateStopped {
		t.Errorf("an edit started a stopped warehouse: %s", st)
	}
	if _, err := w.Warehouses.Start(ctx, sql.StartRequest{Id: id}); err != nil {
		t.Fatalf("start: %v", err)
	}
	clock.now = clock.now.Add(time.Minute)
	if st := state(); st != sql.StateRunning {
		t.Errorf("a minute after start: %s, want RUNNING", st)
	}

	// Permissions: the creator owns it.
	perms, err := w.Warehouses.GetPermissionsByWarehouseId(ctx, id)
	if err != nil || perms.ObjectId != "/warehouses/"+id {
		t.Fatalf("permissions = %+v, %v", perms, err)
	}
	owner := false
	for _, e := range perms.AccessControlList {
		owner = owner || (e.UserName == emulator.DefaultUserName && len(e.AllPermissions) == 1 && e.AllPermissions[0].PermissionLevel == sql.WarehousePermissionLevelIsOwner)
	}
	if !owner {
		t.Errorf("the creator does not own the warehouse: %+v", perms.AccessControlList)
	}
	_, err = w.Warehouses.SetPermissions(ctx, sql.WarehousePermissionsRequest{WarehouseId: id, AccessControlList: []sql.WarehouseAccessControlRequest{
		{GroupName: "users", PermissionLevel: sql.WarehousePermissionLevelCanUse}}})
	if err != nil {
		t.Errorf("set permissions: %v", err)
	}

	list, err := w.Warehouses.ListAll(ctx, sql.ListWarehousesRequest{})
	if err != nil || len(list) != 1 || list[0].Name != "bi3" || list[0].State != sql.StateRunning {
		t.Errorf("list = %+v, %v", list, err)
	}
	if err := w.Warehouses.DeleteById(ctx, id); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = w.Warehouses.GetById(ctx, id)
	if !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("get a deleted warehouse: %v, want not found", err)
	}
	err = w.Warehouses.DeleteById(ctx, id)
	wantAPIError(t, "delete twice", err, 404, "RESOURCE_DOES_NOT_EXIST")
	_, err = w.Warehouses.GetPermissionsByWarehouseId(ctx, id)
	wantAPIError(t, "permissions of a deleted warehouse", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if _, ok := srv.Permissions("t")["warehouses/"+id]; ok {
		t.Error("the permissions of the deleted warehouse are left")
	}
}
