package emulator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/dashboards"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/workspace"

	"github.com/brickci/brickci/internal/emulator"
)

// TestDashboardLifecycle creates, updates, publishes and trashes a
// Lakeview dashboard with the SDK's client.
func TestDashboardLifecycle(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	parent := "/Workspace/Users/" + emulator.DefaultUserName + "/dash"
	content := `{"pages":[{"name":"p1","displayName":"Sales"}]}`

	_, err := w.Lakeview.Create(ctx, dashboards.CreateDashboardRequest{Dashboard: dashboards.Dashboard{DisplayName: "sales", ParentPath: parent}})
	wantAPIError(t, "create in a missing folder", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if !apierr.IsMissing(err) {
		t.Errorf("a missing folder is not a missing error: %v", err)
	}
	if err := w.Workspace.MkdirsByPath(ctx, parent); err != nil {
		t.Fatal(err)
	}
	_, err = w.Lakeview.Create(ctx, dashboards.CreateDashboardRequest{Dashboard: dashboards.Dashboard{DisplayName: "sales", ParentPath: parent, SerializedDashboard: "not json"}})
	wantAPIError(t, "content that is not JSON", err, 400, "INVALID_PARAMETER_VALUE")
	d, err := w.Lakeview.Create(ctx, dashboards.CreateDashboardRequest{Dashboard: dashboards.Dashboard{DisplayName: "sales", ParentPath: parent, WarehouseId: "wh1", SerializedDashboard: content}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	wantPath := "/Users/" + emulator.DefaultUserName + "/dash/sales.lvdash.json"
	if d.DashboardId == "" || d.Path != wantPath || d.ParentPath != "/Users/"+emulator.DefaultUserName+"/dash" || d.Etag == "" ||
		d.LifecycleState != dashboards.LifecycleStateActive || d.SerializedDashboard != content {
		t.Errorf("created = %+v", d)
	}
	if st, err := w.Workspace.GetStatusByPath(ctx, wantPath); err != nil || st.ObjectType != workspace.ObjectType("DASHBOARD") {
		t.Errorf("workspace object = %+v, %v; want a DASHBOARD", st, err)
	}
	_, err = w.Lakeview.Create(ctx, dashboards.CreateDashboardRequest{Dashboard: dashboards.Dashboard{DisplayName: "sales", ParentPath: parent}})
	wantAPIError(t, "the same name twice", err, 400, "RESOURCE_ALREADY_EXISTS")

	_, err = w.Lakeview.GetPublished(ctx, dashboards.GetPublishedDashboardRequest{DashboardId: d.DashboardId})
	wantAPIError(t, "published before publishing", err, 404, "RESOURCE_DOES_NOT_EXIST")
	pub, err := w.Lakeview.Publish(ctx, dashboards.PublishRequest{DashboardId: d.DashboardId, EmbedCredentials: false, ForceSendFields: []string{"EmbedCredentials"}})
	if err != nil || pub.WarehouseId != "wh1" || pub.EmbedCredentials || pub.RevisionCreateTime == "" {
		t.Fatalf("publish = %+v, %v", pub, err)
	}

	// Update: a stale etag is refused; a new name moves the object.
	clock.now = clock.now.Add(time.Minute)
	_, err = w.Lakeview.Update(ctx, dashboards.UpdateDashboardRequest{DashboardId: d.DashboardId, Dashboard: dashboards.Dashboard{DisplayName: "sales", Etag: "stale"}})
	wantAPIError(t, "stale etag", err, 409, "ABORTED")
	u, err := w.Lakeview.Update(ctx, dashboards.UpdateDashboardRequest{DashboardId: d.DashboardId, Dashboard: dashboards.Dashboard{DisplayName: "revenue", Etag: d.Etag,
		SerializedDashboard: `{"pages":[]}`}})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if u.Etag == d.Etag || u.DisplayName != "revenue" || u.Path != "/Users/"+emulator.DefaultUserName+"/dash/revenue.lvdash.json" || u.UpdateTime == d.UpdateTime || u.SerializedDashboard != `{"pages":[]}` {
		t.Errorf("updated = %+v", u)
	}
	if _, err := w.Workspace.GetStatusByPath(ctx, wantPath); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("the old object is still there: %v", err)
	}
	list, err := w.Lakeview.ListAll(ctx, dashboards.ListDashboardsRequest{})
	if err != nil || len(list) != 1 || list[0].DisplayName != "revenue" {
		t.Errorf("list = %+v, %v", list, err)
	}

	// Permissions: the creator manages it.
	_, err = w.Permissions.Set(ctx, iam.SetObjectPermissions{RequestObjectType: "dashboards", RequestObjectId: d.DashboardId,
		AccessControlList: []iam.AccessControlRequest{{GroupName: "users", PermissionLevel: iam.PermissionLevelCanRead}}})
	if err != nil {
		t.Errorf("set permissions: %v", err)
	}
	if got := srv.Permissions("t")["dashboards/"+d.DashboardId]; len(got) != 2 {
		t.Errorf("permissions = %+v, want users and admins", got)
	}

	// Trash: kept as TRASHED, out of the tree and the list.
	if err := w.Lakeview.TrashByDashboardId(ctx, d.DashboardId); err != nil {
		t.Fatalf("trash: %v", err)
	}
	got, err := w.Lakeview.GetByDashboardId(ctx, d.DashboardId)
	if err != nil || got.LifecycleState != dashboards.LifecycleStateTrashed {
		t.Errorf("trashed = %+v, %v", got, err)
	}
	err = w.Lakeview.TrashByDashboardId(ctx, d.DashboardId)
	wantAPIError(t, "trash twice", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if list, _ := w.Lakeview.ListAll(ctx, dashboards.ListDashboardsRequest{}); len(list) != 0 {
		t.Errorf("list after trash = %+v", list)
	}
	_, err = w.Lakeview.Get(ctx, dashboards.GetDashboardRequest{DashboardId: "nope"})
	wantAPIError(t, "unknown dashboard", err, 404, "RESOURCE_DOES_NOT_EXIST")
}
