package deploy

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go/service/dashboards"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/google/go-cmp/cmp"
)

func dashboardResource(dir, parent string, perms ...bundle.Permission) bundle.Resource {
	cfg := map[string]any{
		"display_name": "sales",
		"warehouse_id": "${resources.sql_warehouses.bi.id}",
		"file_path":    "dash/sales.lvdash.json",
	}
	if parent != "" {
		cfg["parent_path"] = parent
	}
	return bundle.Resource{Type: "dashboards", Key: "sales", Name: "sales", Config: cfg, Permissions: perms,
		Location: bundle.Location{File: filepath.Join(dir, "databricks.yml"), Line: 1, Column: 1}}
}

// changeOf returns the planned change of the one resource of a kind.
func changeOf(plan []ResourceChange, kind string) ResourceChange {
	for _, r := range plan {
		if r.Kind == kind {
			return r
		}
	}
	return ResourceChange{}
}

// activeDashboards returns the dashboards of the workspace not in the
// trash.
func activeDashboards(srv *emulator.Server) []emulator.Dashboard {
	var out []emulator.Dashboard
	for _, d := range srv.Dashboards(testToken) {
		if d.LifecycleState != dashboards.LifecycleStateTrashed {
			out = append(out, d)
		}
	}
	return out
}

// TestDashboardLifecycle deploys a dashboard from its file with the SQL
// warehouse it uses and permissions, deploys it again unchanged, changes
// its content in place, moves it (a re-create), removes it from the bundle
// and destroys a bundle holding one.
func TestDashboardLifecycle(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	v1 := `{"pages":[{"name":"p1","displayName":"Sales"}]}`
	writeTree(t, dir, map[string]string{"dash/sales.lvdash.json": v1})
	readers := bundle.Permission{Level: "CAN_READ", GroupName: "users"}
	wh := warehouseResource("Small")

	b := resourceBundle(dir, wh, dashboardResource(dir, "", readers))
	_, reqs := typeDeploy(t, srv, w, b)
	all := activeDashboards(srv)
	if len(all) != 1 {
		t.Fatalf("%d dashboards, want 1", len(all))
	}
	d := all[0]
	whID := onlyWarehouse(t, srv).Id
	wantPath := strings.TrimPrefix(testRoot, "/Workspace") + "/resources/sales.lvdash.json"
	if d.Path != wantPath || d.SerializedDashboard != v1 || d.WarehouseId != whID {
		t.Errorf("dashboard = %+v; want %s with the file's content on warehouse %s", d.Dashboard, wantPath, whID)
	}
	if d.Published == nil || d.Published.EmbedCredentials || d.Published.WarehouseId != whID {
		t.Errorf("published = %+v, want it published on the warehouse without embedded credentials", d.Published)
	}
	if n := countWrites(reqs, "POST", "/api/2.0/lakeview/dashboards/"+d.DashboardId+"/published"); n != 1 {
		t.Errorf("published %d times, want 1", n)
	}
	want := map[string]iam.PermissionLevel{"user:" + testUser: iam.PermissionLevelCanManage, "group:users": iam.PermissionLevelCanRead}
	if diff := cmp.Diff(want, aclOf(srv, "dashboards/"+d.DashboardId)); diff != "" {
		t.Errorf("dashboard permissions (-want +got):\n%s", diff)
	}
	st := recordedState(t, srv)
	e, ok := st["resources.dashboards.sales"]
	if !ok || e.ID != d.DashboardId || e.State["display_name"] != "sales" || e.State["parent_path"] != testRoot+"/resources" || e.State["warehouse_id"] != whID {
		t.Errorf("state entry resources.dashboards.sales = %+v, %v", e, ok)
	}
	if len(e.DependsOn) != 1 || e.DependsOn[0].Node != "resources.sql_warehouses.bi" {
		t.Errorf("depends_on = %+v, want the warehouse", e.DependsOn)
	}

	// Unchanged: nothing is written.
	res, reqs := typeDeploy(t, srv, w, b)
	if res.Changed || len(writesTo(reqs, "/")) != 0 {
		t.Errorf("a no-change deploy changed %v and wrote %v", res.Changed, writesTo(reqs, "/"))
	}

	// New content: updated in place and published again.
	v2 := `{"pages":[{"name":"p1","displayName":"Revenue"}]}`
	writeTree(t, dir, map[string]string{"dash/sales.lvdash.json": v2})
	plan := changeOf(typePlan(t, w, b), "dashboard")
	if plan.Action != Update || plan.Replace || len(plan.Fields) != 1 || plan.Fields[0].Path != "serialized_dashboard" {
		t.Fatalf("plan of a content change = %+v, want the dashboard's content updated in place", plan)
	}
	_, reqs = typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "PATCH", "/api/2.0/lakeview/dashboards/"+d.DashboardId); n != 1 {
		t.Errorf("sent %d dashboard updates, want 1", n)
	}
	if n := countWrites(reqs, "POST", "/api/2.0/lakeview/dashboards/"+d.DashboardId+"/published"); n != 1 {
		t.Errorf("published %d times, want 1", n)
	}
	if got := srv.Dashboards(testToken)[d.DashboardId]; got.SerializedDashboard != v2 || len(activeDashboards(srv)) != 1 {
		t.Errorf("after the update: %+v", got.Dashboard)
	}

	// A new parent path replaces it: the old one goes to the trash.
	moved := testRoot + "/reports"
	b = resourceBundle(dir, wh, dashboardResource(dir, moved, readers))
	plan = changeOf(typePlan(t, w, b), "dashboard")
	if plan.Action != Update || !plan.Replace {
		t.Fatalf("plan of a move = %+v, want a replace", plan)
	}
	typeDeploy(t, srv, w, b)
	if got := srv.Dashboards(testToken)[d.DashboardId]; got.LifecycleState != dashboards.LifecycleStateTrashed {
		t.Errorf("the moved dashboard's old copy is %s, want TRASHED", got.LifecycleState)
	}
	all = activeDashboards(srv)
	if len(all) != 1 || all[0].Path != strings.TrimPrefix(moved, "/Workspace")+"/sales.lvdash.json" || all[0].Published == nil {
		t.Fatalf("dashboards after a move = %+v", all)
	}
	if got := aclOf(srv, "dashboards/"+all[0].DashboardId)["group:users"]; got != iam.PermissionLevelCanRead {
		t.Errorf("the new dashboard's users have %q, want CAN_READ", got)
	}

	// Dropped from the bundle: trashed, with its state.
	_, reqs = typeDeploy(t, srv, w, resourceBundle(dir, wh))
	if n := countWrites(reqs, "DELETE", "/api/2.0/lakeview/dashboards/"+all[0].DashboardId); n != 1 {
		t.Errorf("sent %d trashes, want 1", n)
	}
	if got := activeDashboards(srv); len(got) != 0 {
		t.Errorf("dashboards left: %+v", got)
	}
	for a := range recordedState(t, srv) {
		if strings.HasPrefix(a, "resources.dashboards.") {
			t.Errorf("state still holds %s", a)
		}
	}

	// Destroy leaves none, the warehouse included.
	b = resourceBundle(dir, wh, dashboardResource(dir, ""))
	typeDeploy(t, srv, w, b)
	if err := Destroy(context.Background(), w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if got := activeDashboards(srv); len(got) != 0 {
		t.Errorf("dashboards left after destroy: %+v", got)
	}
	if got := srv.Warehouses(testToken); len(got) != 0 {
		t.Errorf("warehouses left after destroy: %+v", got)
	}
}

// TestDashboardTrashedIsMissing checks that a refresh takes a dashboard
// trashed in the workspace for deleted and creates it again.
func TestDashboardTrashedIsMissing(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	writeTree(t, dir, map[string]string{"dash/sales.lvdash.json": `{"pages":[]}`})
	b := resourceBundle(dir, warehouseResource("Small"), dashboardResource(dir, ""))
	typeDeploy(t, srv, w, b)
	id := activeDashboards(srv)[0].DashboardId
	ctx := context.Background()
	if err := w.Lakeview.TrashByDashboardId(ctx, id); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Refresh = true
	if _, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts); err != nil {
		t.Fatal(err)
	}
	all := activeDashboards(srv)
	if len(all) != 1 || all[0].DashboardId == id {
		t.Errorf("after a refresh deploy: %+v, want a new dashboard", all)
	}
}
