package deploy

import (
	"context"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/sql"
	"github.com/google/go-cmp/cmp"
)

func warehouseResource(size string, perms ...bundle.Permission) bundle.Resource {
	return bundle.Resource{Type: "sql_warehouses", Key: "bi", Name: "bi", Config: map[string]any{
		"name":         "bi",
		"cluster_size": size,
	}, Permissions: perms}
}

// onlyWarehouse returns the one SQL warehouse of the workspace.
func onlyWarehouse(t *testing.T, srv *emulator.Server) sql.GetWarehouseResponse {
	t.Helper()
	all := srv.Warehouses(testToken)
	if len(all) != 1 {
		t.Fatalf("workspace has %d SQL warehouses, want 1: %+v", len(all), all)
	}
	for _, wh := range all {
		return wh
	}
	panic("unreachable")
}

// TestSQLWarehouseLifecycle deploys a SQL warehouse with permissions,
// deploys it again unchanged, edits it in place, removes it from the
// bundle, and destroys a bundle holding one.
func TestSQLWarehouseLifecycle(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	users := bundle.Permission{Level: "CAN_USE", GroupName: "users"}

	b := resourceBundle(dir, warehouseResource("Small", users))
	_, reqs := typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "POST", "/api/2.0/sql/warehouses"); n != 1 {
		t.Errorf("sent %d warehouse creates, want 1", n)
	}
	if n := countPath(reqs, "/api/2.0/sql/warehouses/"+onlyWarehouse(t, srv).Id); n != 0 {
		t.Errorf("waited for the new warehouse (%d requests)", n)
	}
	wh := onlyWarehouse(t, srv)
	if wh.Name != "bi" || wh.ClusterSize != "Small" || wh.AutoStopMins != 120 || !wh.EnablePhoton || wh.MaxNumClusters != 1 {
		t.Errorf("warehouse = %+v; want bi, Small, with the CLI's defaults", wh)
	}
	want := map[string]iam.PermissionLevel{"user:" + testUser: iam.PermissionLevelIsOwner, "group:users": iam.PermissionLevelCanUse}
	if diff := cmp.Diff(want, aclOf(srv, "warehouses/"+wh.Id)); diff != "" {
		t.Errorf("warehouse permissions (-want +got):\n%s", diff)
	}
	st := recordedState(t, srv)
	if e, ok := st["resources.sql_warehouses.bi"]; !ok || e.ID != wh.Id || e.State["name"] != "bi" || e.State["cluster_size"] != "Small" {
		t.Errorf("state entry resources.sql_warehouses.bi = %+v, %v; want __id__ %s and the settings", e, ok, wh.Id)
	}
	if p, ok := st["resources.sql_warehouses.bi.permissions"]; !ok || p.ID != "/warehouses/"+wh.Id {
		t.Errorf("state entry of the permissions = %+v, %v", p, ok)
	}

	// Unchanged: nothing is written.
	res, reqs := typeDeploy(t, srv, w, b)
	if res.Changed || len(writesTo(reqs, "/")) != 0 {
		t.Errorf("a no-change deploy changed %v and wrote %v", res.Changed, writesTo(reqs, "/"))
	}

	// A new size and permission: edited in place.
	b = resourceBundle(dir, warehouseResource("Medium", bundle.Permission{Level: "CAN_MONITOR", GroupName: "users"}))
	plan := typePlan(t, w, b)
	if len(plan) != 1 || plan[0].Action != Update || plan[0].Replace {
		t.Fatalf("plan of a size change = %+v, want one update in place", plan)
	}
	_, reqs = typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "POST", "/api/2.0/sql/warehouses/"+wh.Id+"/edit"); n != 1 {
		t.Errorf("sent %d warehouse edits, want 1: %v", n, reqs)
	}
	if n := countWrites(reqs, "POST", "/api/2.0/sql/warehouses") + countWrites(reqs, "DELETE", "/api/2.0/sql/warehouses/"+wh.Id); n != 0 {
		t.Errorf("an edit re-created the warehouse: %v", reqs)
	}
	edited := onlyWarehouse(t, srv)
	if edited.Id != wh.Id || edited.ClusterSize != "Medium" {
		t.Errorf("edited warehouse = %+v, want %s of size Medium", edited, wh.Id)
	}
	if got := aclOf(srv, "warehouses/"+wh.Id)["group:users"]; got != iam.PermissionLevelCanMonitor {
		t.Errorf("users have %s, want CAN_MONITOR", got)
	}

	// Dropped from the bundle: deleted, with its state.
	_, reqs = typeDeploy(t, srv, w, resourceBundle(dir))
	if n := countWrites(reqs, "DELETE", "/api/2.0/sql/warehouses/"+wh.Id); n != 1 {
		t.Errorf("sent %d warehouse deletes, want 1", n)
	}
	if got := srv.Warehouses(testToken); len(got) != 0 {
		t.Errorf("warehouses left: %+v", got)
	}
	for a := range recordedState(t, srv) {
		if strings.HasPrefix(a, "resources.sql_warehouses.") {
			t.Errorf("state still holds %s", a)
		}
	}

	// Destroy leaves none.
	b = resourceBundle(dir, warehouseResource("X-Small"))
	typeDeploy(t, srv, w, b)
	if err := Destroy(context.Background(), w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Warehouses(testToken); len(got) != 0 {
		t.Errorf("warehouses left after destroy: %+v", got)
	}
}

// TestSQLWarehouseRefresh checks that a refresh reads a deployed warehouse
// without reporting the workspace's own defaults, and puts back a setting
// changed in the workspace.
func TestSQLWarehouseRefresh(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := resourceBundle(dir, warehouseResource("Small"))
	typeDeploy(t, srv, w, b)
	wh := onlyWarehouse(t, srv)
	ctx := context.Background()
	p, err := planLocal(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Refresh(ctx, w); err != nil || len(p.Drift) != 0 {
		t.Fatalf("refresh of an unchanged warehouse: %+v, %v", p.Drift, err)
	}
	if _, err := w.Warehouses.Edit(ctx, sql.EditWarehouseRequest{Id: wh.Id, Name: "bi", ClusterSize: "Large"}); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Refresh = true
	if _, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts); err != nil {
		t.Fatal(err)
	}
	if got := onlyWarehouse(t, srv); got.ClusterSize != "Small" || got.Id != wh.Id {
		t.Errorf("after a refresh deploy: %+v, want %s back to Small", got, wh.Id)
	}
}
