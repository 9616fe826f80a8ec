package emulator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/compute"
	"github.com/databricks/databricks-sdk-go/service/iam"

	"github.com/brickci/brickci/internal/emulator"
)

func clusterState(t *testing.T, w interface {
	GetByClusterId(context.Context, string) (*compute.ClusterDetails, error)
}, id string) compute.State {
	t.Helper()
	got, err := w.GetByClusterId(context.Background(), id)
	if err != nil {
		t.Fatalf("get cluster %s: %v", id, err)
	}
	return got.State
}

// TestClusterLifecycle drives a cluster through create, edit, terminate,
// start and permanent delete with the SDK's clients, the states following
// the emulator's clock.
func TestClusterLifecycle(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now, Config: emulator.Config{TaskDuration: time.Minute}})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()

	_, err := w.Clusters.Create(ctx, compute.CreateCluster{ClusterName: "no-version", NumWorkers: 1})
	wantAPIError(t, "create without spark_version", err, 400, "INVALID_PARAMETER_VALUE")

	wait, err := w.Clusters.Create(ctx, compute.CreateCluster{ClusterName: "etl", SparkVersion: "15.4.x-scala2.12", NodeTypeId: "i3.xlarge", NumWorkers: 2,
		CustomTags: map[string]string{"team": "data"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := wait.ClusterId
	got, err := w.Clusters.GetByClusterId(ctx, id)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.State != compute.StatePending || got.ClusterName != "etl" || got.NumWorkers != 2 || got.CreatorUserName != emulator.DefaultUserName ||
		got.Spec == nil || got.Spec.SparkVersion != "15.4.x-scala2.12" || got.Spec.CustomTags["team"] != "data" || got.DefaultTags["ClusterId"] != id {
		t.Errorf("new cluster = %+v", got)
	}
	_, err = w.Clusters.Edit(ctx, compute.EditCluster{ClusterId: id, ClusterName: "etl", SparkVersion: "15.4.x-scala2.12", NumWorkers: 4})
	wantAPIError(t, "edit while pending", err, 400, "INVALID_STATE")

	clock.now = clock.now.Add(time.Minute)
	if st := clusterState(t, w.Clusters, id); st != compute.StateRunning {
		t.Errorf("state a minute after create = %s, want RUNNING", st)
	}
	if _, err := w.Clusters.Edit(ctx, compute.EditCluster{ClusterId: id, ClusterName: "etl2", SparkVersion: "16.4.x-scala2.12", NumWorkers: 4}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	got, _ = w.Clusters.GetByClusterId(ctx, id)
	if got.State != compute.StateRestarting || got.ClusterName != "etl2" || got.NumWorkers != 4 || got.CustomTags != nil || got.Spec.SparkVersion != "16.4.x-scala2.12" {
		t.Errorf("edited cluster = %+v; want it restarting with only the new settings", got)
	}
	clock.now = clock.now.Add(time.Minute)
	if st := clusterState(t, w.Clusters, id); st != compute.StateRunning {
		t.Errorf("state after the restart = %s, want RUNNING", st)
	}
	_, err = w.Clusters.Start(ctx, compute.StartCluster{ClusterId: id})
	wantAPIError(t, "start a running cluster", err, 400, "INVALID_STATE")

	// Permissions: the creator manages it; the levels are the compute ones.
	perms, err := w.Clusters.SetPermissions(ctx, compute.ClusterPermissionsRequest{ClusterId: id, AccessControlList: []compute.ClusterAccessControlRequest{
		{UserName: emulator.DefaultUserName, PermissionLevel: compute.ClusterPermissionLevelCanManage},
		{GroupName: "users", PermissionLevel: compute.ClusterPermissionLevelCanAttachTo},
	}})
	if err != nil || perms.ObjectId != "/clusters/"+id || perms.ObjectType != "cluster" {
		t.Fatalf("set permissions = %+v, %v", perms, err)
	}
	if got := srv.Permissions("t")["clusters/"+id]; len(got) != 3 {
		t.Errorf("permissions = %+v, want the user, users and admins", got)
	}
	_, err = w.Permissions.Set(ctx, iam.SetObjectPermissions{RequestObjectType: "clusters", RequestObjectId: id,
		AccessControlList: []iam.AccessControlRequest{{GroupName: "users", PermissionLevel: iam.PermissionLevelIsOwner}}})
	wantAPIError(t, "IS_OWNER on a cluster", err, 400, "INVALID_PARAMETER_VALUE")

	// Terminate: it stays, TERMINATED; start brings it back.
	if _, err := w.Clusters.Delete(ctx, compute.DeleteCluster{ClusterId: id}); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if st := clusterState(t, w.Clusters, id); st != compute.StateTerminating {
		t.Errorf("state right after terminate = %s, want TERMINATING", st)
	}
	clock.now = clock.now.Add(time.Minute)
	got, _ = w.Clusters.GetByClusterId(ctx, id)
	if got.State != compute.StateTerminated || got.TerminatedTime == 0 || got.TerminationReason == nil {
		t.Errorf("terminated cluster = %+v", got)
	}
	if _, err := w.Clusters.Edit(ctx, compute.EditCluster{ClusterId: id, ClusterName: "etl3", SparkVersion: "16.4.x-scala2.12", NumWorkers: 1}); err != nil {
		t.Fatalf("edit a terminated cluster: %v", err)
	}
	if st := clusterState(t, w.Clusters, id); st != compute.StateTerminated {
		t.Errorf("an edit started a terminated cluster: %s", st)
	}
	if _, err := w.Clusters.Start(ctx, compute.StartCluster{ClusterId: id}); err != nil {
		t.Fatalf("start: %v", err)
	}
	clock.now = clock.now.Add(time.Minute)
	if st := clusterState(t, w.Clusters, id); st != compute.StateRunning {
		t.Errorf("state a minute after start = %s, want RUNNING", st)
	}
	list, err := w.Clusters.ListAll(ctx, compute.ListClustersRequest{})
	if err != nil || len(list) != 1 || list[0].ClusterName != "etl3" {
		t.Errorf("list = %+v, %v", list, err)
	}

	// Permanent delete: gone, with its permissions.
	if err := w.Clusters.PermanentDeleteByClusterId(ctx, id); err != nil {
		t.Fatalf("permanent delete: %v", err)
	}
	_, err = w.Clusters.GetByClusterId(ctx, id)
	if !errors.Is(err, apierr.ErrResourceDoesNotExist) || !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("get a deleted cluster: %v, want a not-found error", err)
	}
	err = w.Clusters.PermanentDeleteByClusterId(ctx, id)
	wantAPIError(t, "permanent delete twice", err, 400, "INVALID_PARAMETER_VALUE")
	_, err = w.Clusters.GetPermissionsByClusterId(ctx, id)
	wantAPIError(t, "permissions of a deleted cluster", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if got := srv.Clusters("t"); len(got) != 0 {
		t.Errorf("clusters after permanent delete: %+v", got)
	}
	if _, ok := srv.Permissions("t")["clusters/"+id]; ok {
		t.Error("the permissions of the deleted cluster are left")
	}
}
